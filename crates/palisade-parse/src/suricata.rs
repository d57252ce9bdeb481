//! Suricata EVE JSON records (`eve.json`) normalised to ECS, dataset `suricata.eve`.
//!
//! [`looks_like`] recognises an EVE record by its keys: a string `event_type`, a string
//! `timestamp` and one of `src_ip`, `flow_id`, `in_iface` or `stats`. [`from_json`] keeps
//! every original field, flattened to its dotted name under `suricata.eve.*` (string values
//! capped at [`MAX_VALUE_LEN`] bytes), and adds the ECS fields:
//!
//! - **Every record**: `@timestamp` from `timestamp` (Suricata writes `+0000`, an offset without
//!   a colon; a time without an offset is not guessed and gives no `@timestamp`),
//!   `source.ip`/`.port`/`.address`, `destination.*`, `source.mac`/`destination.mac` (from
//!   `ether`), `network.transport` (lower-case `proto`; a bare number goes to
//!   `network.iana_number`), `network.type`, `network.protocol` (`app_proto`),
//!   `network.community_id`, `network.vlan.id` and `network.inner.vlan.id`,
//!   `observer.ingress.interface.name` (`in_iface`), `observer.hostname` (`host`, the sensor
//!   name), `event.id` (`flow_id` as text), `event.kind`/`category`/`type` by `event_type`.
//! - **Protocol objects**, wherever they appear (an `alert` carries the `http`, `tls`, `dns` and
//!   `flow` objects of its transaction too): `alert` → `rule.*`, `event.severity`,
//!   `event.action` (`allowed`/`blocked`), `threat.*` from MITRE metadata; `dns` (EVE v2
//!   `query`/`answer` records with `answers` or `grouped`, and v3 of Suricata 8 with
//!   `queries[]`/`answers[]`) → `dns.*`; `http` → `url.*`, `http.*`, `user_agent.original`;
//!   `tls` → `tls.*`; `flow` → packet and byte counters, `event.start`/`end`/`duration`;
//!   `fileinfo` → `file.*`; `smtp`/`email` → `email.*`; `anomaly` → `event.reason`.
//! - `related.ip`, `related.hosts` and `related.hash` (file hashes, certificate fingerprint,
//!   JA3/JA3S/JA4, HASSH).
//!
//! `event.severity` is Suricata's own scale: **1 is the most severe**, 3 the least (some rule
//! sets use 4 for informational rules). `event.action` is only set on alerts.
//!
//! The full mapping table, with what is not handled, is in `docs/parsers/suricata.md`.
//! Input is attacker-influenced (URLs, host names, user agents, certificate names): nothing
//! here panics, every walk is linear, and every text is capped.

use palisade_event::{Event, Str, Text, Timestamp, Value};
use serde_json::Value as Json;

use crate::ecs::{self, EcsFields};
use crate::format::windows;

/// The `event.dataset` of every event this module produces.
pub const DATASET: &str = "suricata.eve";
/// Longest string value kept in a flattened `suricata.eve.*` field, in bytes.
pub const MAX_VALUE_LEN: usize = 8192;
/// Most DNS answers mapped to `dns.answers.*` (all of them stay under `suricata.eve.dns.*`).
pub const MAX_DNS_ANSWERS: usize = 100;

/// True when `document` is a Suricata EVE record: a string `event_type`, a string `timestamp`
/// and one of `src_ip`, `flow_id`, `in_iface` or `stats`.
#[must_use]
pub fn looks_like(document: &Json) -> bool {
    let Some(object) = document.as_object() else { return false };
    object.get("event_type").is_some_and(Json::is_string)
        && object.get("timestamp").is_some_and(Json::is_string)
        && ["src_ip", "flow_id", "in_iface", "stats"].iter().any(|key| object.contains_key(*key))
}

/// Converts one EVE record into an event: every original field flattened under
/// `suricata.eve.*`, plus the ECS fields, `event.dataset` and `@timestamp`.
#[must_use]
pub fn from_json(document: &Json) -> Event {
    let mut flat = Vec::with_capacity(64);
    windows::flatten_into("suricata.eve", document, &mut flat);
    cap_values(&mut flat, MAX_VALUE_LEN);
    let mut event = Event::from_fields(flat);

    let mut fields = EcsFields::new();
    let mut hashes = Vec::new();
    let event_type = text(document.get("event_type")).unwrap_or_default();
    categorize(document, event_type, &mut fields);
    map_common(document, &mut fields);
    if let Some(alert) = document.get("alert").filter(|alert| alert.is_object()) {
        map_alert(alert, &mut fields);
    }
    if let Some(dns) = document.get("dns").filter(|dns| dns.is_object()) {
        map_dns(dns, &mut fields, 0);
    }
    if let Some(http) = document.get("http").filter(|http| http.is_object()) {
        map_http(http, &mut fields);
    }
    if let Some(tls) = document.get("tls").filter(|tls| tls.is_object()) {
        map_tls(tls, &mut fields, &mut hashes);
    }
    if let Some(quic) = document.get("quic").filter(|quic| quic.is_object()) {
        // The QUIC handshake is TLS 1.3: the same SNI and JA3/JA4 fields.
        map_tls(quic, &mut fields, &mut hashes);
    }
    if let Some(flow) = document.get("flow").filter(|flow| flow.is_object()) {
        map_flow(flow, &mut fields);
    }
    if let Some(netflow) = document.get("netflow").filter(|flow| flow.is_object()) {
        map_netflow(netflow, &mut fields);
    }
    if let Some(fileinfo) = document.get("fileinfo").filter(|info| info.is_object()) {
        map_fileinfo(fileinfo, &mut fields, &mut hashes);
    }
    if let Some(ssh) = document.get("ssh").filter(|ssh| ssh.is_object()) {
        for side in ["client", "server"] {
            if let Some(hash) = text(ssh.pointer(&format!("/{side}/hassh/hash"))) {
                push_hash(&mut hashes, hash);
            }
        }
    }
    map_email(document, &mut fields);
    if let Some(reason) = text(document.pointer("/anomaly/event")) {
        fields.text("event.reason", reason);
    }
    fields.names("related.hash", hashes.iter().map(String::as_str));
    fields.apply(&mut event);
    event.set_timestamp(text(document.get("timestamp")).and_then(parse_time));
    event
}

/// `event.kind`, `event.category`, `event.type` and `event.outcome` by `event_type`.
fn categorize(document: &Json, event_type: &str, fields: &mut EcsFields) {
    match event_type {
        "alert" => {
            let blocked = text(document.pointer("/alert/action")) == Some("blocked");
            fields.categorize(
                DATASET,
                "alert",
                &["network", "intrusion_detection"],
                &[if blocked { "denied" } else { "allowed" }],
                Some(if blocked { "failure" } else { "success" }),
            );
        }
        "drop" => {
            fields.categorize(DATASET, "event", &["network"], &["connection", "denied"], None);
        }
        "flow" | "netflow" => {
            fields.categorize(DATASET, "event", &["network"], &["connection", "end"], None);
        }
        "http" => fields.categorize(DATASET, "event", &["network", "web"], &["protocol"], None),
        "fileinfo" => fields.categorize(DATASET, "event", &["network", "file"], &["info"], None),
        "smtp" => fields.categorize(DATASET, "event", &["network", "email"], &["info"], None),
        "anomaly" => fields.categorize(DATASET, "event", &["network"], &["info"], None),
        "stats" => fields.categorize(DATASET, "metric", &[], &[], None),
        _ if is_protocol_record(document, event_type) || document.get("app_proto").is_some() => {
            // An application-layer record (dns, tls, ssh, smb, krb5, quic...): its object is
            // named after the event type.
            fields.categorize(DATASET, "event", &["network"], &["protocol"], None);
        }
        _ => fields.categorize(DATASET, "event", &["network"], &["info"], None),
    }
}

/// True for an application-layer record (`dns`, `tls`, `ssh`, `smb`, `krb5`, `quic`...): its
/// object is named after its event type.
fn is_protocol_record(document: &Json, event_type: &str) -> bool {
    !matches!(
        event_type,
        "alert" | "anomaly" | "drop" | "fileinfo" | "flow" | "netflow" | "stats" | "frame"
    ) && document.get(event_type).is_some_and(Json::is_object)
}

fn map_common(document: &Json, fields: &mut EcsFields) {
    fields.name("observer.vendor", "OISF");
    fields.name("observer.product", "Suricata");
    fields.name("observer.type", "ids");
    let mut ip_version = None;
    for (key, prefix) in [("src_ip", "source"), ("dest_ip", "destination")] {
        if let Some(address) = text(document.get(key))
            && fields.ip(format!("{prefix}.ip"), address)
        {
            fields.name(format!("{prefix}.address"), address);
            ip_version.get_or_insert(if address.contains(':') { "ipv6" } else { "ipv4" });
        }
    }
    for (key, field) in [("src_port", "source.port"), ("dest_port", "destination.port")] {
        if let Some(port) = int(document.get(key)).filter(|port| (0..=65535).contains(port)) {
            fields.int(field, port);
        }
    }
    if let Some(version) = ip_version {
        fields.name("network.type", version);
    }
    for (key, field) in [("src_mac", "source.mac"), ("dest_mac", "destination.mac")] {
        if let Some(mac) = text(document.pointer(&format!("/ether/{key}"))).and_then(ecs_mac) {
            fields.name(field, &mac);
        }
    }
    if let Some(proto) = text(document.get("proto")) {
        let proto = proto.to_ascii_lowercase();
        if ecs::is_digits(&proto) {
            fields.int_text("network.iana_number", proto.trim_start_matches('0'));
        } else {
            fields.name("network.transport", &proto);
            if let Some(number) = iana_number(&proto) {
                fields.int("network.iana_number", number);
            }
        }
    }
    let event_type = text(document.get("event_type")).unwrap_or_default();
    match text(document.get("app_proto")) {
        Some("failed" | "unknown") => {}
        Some(app_proto) => fields.name("network.protocol", &app_proto.to_ascii_lowercase()),
        // Protocol records (`http`, `dns`, `tls`...) carry no app_proto: their type is it.
        None if is_protocol_record(document, event_type) => {
            fields.name("network.protocol", &event_type.to_ascii_lowercase());
        }
        None => {}
    }
    if let Some(community_id) = text(document.get("community_id")) {
        fields.name("network.community_id", community_id);
    }
    if let Some(vlans) = document.get("vlan") {
        let vlans: Vec<String> = match vlans {
            Json::Array(items) => items.iter().filter_map(scalar_text).collect(),
            other => scalar_text(other).into_iter().collect(),
        };
        if let Some(outer) = vlans.first() {
            fields.name("network.vlan.id", outer);
        }
        if let Some(inner) = vlans.get(1) {
            fields.name("network.inner.vlan.id", inner);
        }
    }
    if let Some(interface) = text(document.get("in_iface")) {
        fields.name("observer.ingress.interface.name", interface);
    }
    if let Some(sensor) = text(document.get("host")) {
        fields.name("observer.hostname", sensor);
    }
    if let Some(flow_id) = document.get("flow_id").and_then(scalar_text) {
        fields.name("event.id", &flow_id);
    }
}

fn iana_number(transport: &str) -> Option<i64> {
    Some(match transport {
        "icmp" => 1,
        "igmp" => 2,
        "tcp" => 6,
        "udp" => 17,
        "gre" => 47,
        "esp" => 50,
        "ipv6-icmp" => 58,
        "sctp" => 132,
        _ => return None,
    })
}

fn map_alert(alert: &Json, fields: &mut EcsFields) {
    if let Some(id) = alert.get("signature_id").and_then(scalar_text) {
        fields.name("rule.id", &id);
    }
    if let Some(name) = text(alert.get("signature")) {
        fields.text("rule.name", name);
    }
    if let Some(category) = text(alert.get("category")) {
        fields.name("rule.category", category);
    }
    if let Some(rev) = alert.get("rev").and_then(scalar_text) {
        fields.name("rule.version", &rev);
    }
    if let Some(severity) = int(alert.get("severity")) {
        fields.int("event.severity", severity);
    }
    if let Some(action @ ("allowed" | "blocked")) = text(alert.get("action")) {
        fields.name("event.action", action);
    }
    let Some(metadata) = alert.get("metadata").and_then(Json::as_object) else { return };
    let strings = |key: &str| -> Vec<&str> {
        match metadata.get(key) {
            Some(Json::Array(items)) => items.iter().filter_map(Json::as_str).collect(),
            Some(Json::String(one)) => vec![one.as_str()],
            _ => Vec::new(),
        }
    };
    if let Some(ruleset) = strings("ruleset").first() {
        fields.name("rule.ruleset", ruleset);
    }
    let mut threat = false;
    for (key, field) in [
        ("mitre_technique_id", "threat.technique.id"),
        ("mitre_technique_name", "threat.technique.name"),
        ("mitre_tactic_id", "threat.tactic.id"),
        ("mitre_tactic_name", "threat.tactic.name"),
    ] {
        let values = strings(key);
        threat |= !values.is_empty();
        fields.names(field, values);
    }
    if threat {
        fields.name("threat.framework", "MITRE ATT&CK");
    }
}

/// DNS, EVE v1/v2 (`type` `query`/`answer`, question in `rrname`/`rrtype`, `answers` or
/// `grouped`), v3 (`type` `request`/`response`, `queries[]`, `answers[]`) and the Suricata 7
/// alert shape (`query: [{...}]`, `answer: {...}`).
fn map_dns(dns: &Json, fields: &mut EcsFields, depth: u8) {
    if depth == 0 {
        let query = dns.get("query").and_then(Json::as_array).and_then(|queries| queries.first());
        let answer = dns.get("answer").filter(|answer| answer.is_object());
        if query.is_some() || answer.is_some() {
            if let Some(query) = query {
                map_dns(query, fields, 1);
            }
            if let Some(answer) = answer {
                map_dns(answer, fields, 1);
            }
            return;
        }
    }
    let is_answer = match text(dns.get("type")) {
        Some("query" | "request") => {
            fields.name("dns.type", "query");
            false
        }
        Some("answer" | "response") => {
            fields.name("dns.type", "answer");
            true
        }
        _ => dns.get("answers").is_some() || dns.get("grouped").is_some(),
    };
    if let Some(id) = dns.get("id").and_then(scalar_text) {
        fields.name("dns.id", &id);
    }
    if let Some(op_code) = int(dns.get("opcode")).and_then(op_code_name) {
        fields.name("dns.op_code", op_code);
    }
    let question = dns
        .get("queries")
        .and_then(Json::as_array)
        .and_then(|queries| queries.first())
        .unwrap_or(dns);
    if let Some(name) = text(question.get("rrname")) {
        fields.name("dns.question.name", name);
        fields.related_host(name.strip_suffix('.').unwrap_or(name));
    }
    if let Some(rrtype) = text(question.get("rrtype")) {
        fields.name("dns.question.type", rrtype);
    }
    if is_answer && let Some(rcode) = text(dns.get("rcode")) {
        fields.name("dns.response_code", rcode);
    }
    let flags: Vec<&str> = [
        ("aa", "AA"),
        ("tc", "TC"),
        ("rd", "RD"),
        ("ra", "RA"),
        ("ad", "AD"),
        ("cd", "CD"),
        ("do", "DO"),
    ]
    .into_iter()
    .filter(|(key, _)| dns.get(*key).and_then(Json::as_bool) == Some(true))
    .map(|(_, flag)| flag)
    .collect();
    fields.names("dns.header_flags", flags);
    map_dns_answers(dns, is_answer, fields);
}

fn op_code_name(op_code: i64) -> Option<&'static str> {
    Some(match op_code {
        0 => "QUERY",
        1 => "IQUERY",
        2 => "STATUS",
        4 => "NOTIFY",
        5 => "UPDATE",
        6 => "DSO",
        _ => return None,
    })
}

fn map_dns_answers(dns: &Json, is_answer: bool, fields: &mut EcsFields) {
    let mut names = Vec::new();
    let mut types = Vec::new();
    let mut ttls = Vec::new();
    let mut data = Vec::new();
    let mut resolved = Vec::new();
    let mut add = |name: Option<&str>,
                   rrtype: Option<&str>,
                   ttl: Option<i64>,
                   rdata: Option<&str>| {
        names.push(name.map_or(Value::Null, |name| Value::from(ecs::cap(name, ecs::MAX_NAME_LEN))));
        types.push(rrtype.map_or(Value::Null, Value::from));
        ttls.push(ttl.map_or(Value::Null, Value::Int));
        data.push(
            rdata.map_or(Value::Null, |rdata| Value::from(ecs::cap(rdata, ecs::MAX_NAME_LEN))),
        );
        if matches!(rrtype, Some("A" | "AAAA"))
            && let Some(ip) = rdata.and_then(ecs::ip_text)
            && !resolved.iter().any(|known| known == ip)
        {
            resolved.push(ip.to_owned());
        }
    };
    if let Some(answers) = dns.get("answers").and_then(Json::as_array) {
        for answer in answers.iter().take(MAX_DNS_ANSWERS) {
            let structured = structured_rdata(answer);
            add(
                text(answer.get("rrname")),
                text(answer.get("rrtype")),
                int(answer.get("ttl")),
                text(answer.get("rdata")).or(structured.as_deref()),
            );
        }
    } else if let Some(grouped) = dns.get("grouped").and_then(Json::as_object) {
        let items = grouped.iter().flat_map(|(rrtype, values)| {
            values.as_array().into_iter().flatten().map(move |value| (rrtype.as_str(), value))
        });
        for (rrtype, value) in items.take(MAX_DNS_ANSWERS) {
            add(None, Some(rrtype), None, value.as_str());
        }
    } else if is_answer && dns.get("rdata").is_some() {
        // EVE v1: one record per answer, the answer's fields at the top.
        add(
            text(dns.get("rrname")),
            text(dns.get("rrtype")),
            int(dns.get("ttl")),
            text(dns.get("rdata")),
        );
    }
    for (field, values) in [
        ("dns.answers.name", names),
        ("dns.answers.type", types),
        ("dns.answers.ttl", ttls),
        ("dns.answers.data", data),
    ] {
        if values.iter().any(|value| *value != Value::Null) {
            fields.set(field, Value::List(values));
        }
    }
    for ip in &resolved {
        fields.related_ip(ip);
    }
    fields.names("dns.resolved_ip", resolved.iter().map(String::as_str));
}

/// The data of an SRV or SOA answer, which Suricata logs as an object instead of `rdata`, in
/// its zone-file order: `priority weight port target`, `mname rname serial refresh retry
/// expire minimum`.
fn structured_rdata(answer: &Json) -> Option<String> {
    let (object, keys): (_, &[&str]) = if let Some(srv) = answer.get("srv") {
        (srv, &["priority", "weight", "port", "name"])
    } else if let Some(soa) = answer.get("soa") {
        (soa, &["mname", "rname", "serial", "refresh", "retry", "expire", "minimum"])
    } else {
        return None;
    };
    let parts: Option<Vec<String>> =
        keys.iter().map(|key| object.get(*key).and_then(scalar_text)).collect();
    parts.map(|parts| parts.join(" "))
}

fn map_http(http: &Json, fields: &mut EcsFields) {
    if let Some(hostname) = text(http.get("hostname")) {
        let host = hostname.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(hostname);
        fields.name("url.domain", host);
        fields.related_host(host);
        fields.related_ip(host);
    }
    if let Some(port) = int(http.get("http_port")).filter(|port| (0..=65535).contains(port)) {
        fields.int("url.port", port);
    }
    if let Some(url) = text(http.get("url")) {
        fields.text("url.original", url);
        let (path, query) = split_target(url);
        fields.text("url.path", path);
        if let Some(query) = query {
            fields.text("url.query", query);
        }
    }
    if let Some(method) = text(http.get("http_method")) {
        fields.name("http.request.method", method);
    }
    if let Some(status) = int(http.get("status")).filter(|status| (100..=999).contains(status)) {
        fields.int("http.response.status_code", status);
    }
    if let Some(protocol) = text(http.get("protocol")) {
        let version = protocol.strip_prefix("HTTP/").unwrap_or(protocol);
        fields.name("http.version", version);
    }
    if let Some(agent) = text(http.get("http_user_agent")) {
        fields.text("user_agent.original", agent);
    }
    if let Some(referrer) = text(http.get("http_refer")) {
        fields.text("http.request.referrer", referrer);
    }
    if let Some(length) = int(http.get("length")).filter(|length| *length >= 0) {
        fields.int("http.response.body.bytes", length);
    }
    if let Some(content_type) = text(http.get("http_content_type")) {
        let mime = content_type.split(';').next().unwrap_or_default().trim();
        fields.name("http.response.mime_type", mime);
    }
}

/// Splits an HTTP request target into its path and its query (without the `?`). An absolute
/// URL (`http://host/path`, a proxy request) gives the path after the authority; an
/// authority-form target (`CONNECT host:443`) gives an empty path.
#[must_use]
pub fn split_target(target: &str) -> (&str, Option<&str>) {
    let (before_query, query) = match target.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (target, None),
    };
    let before_query = before_query.split_once('#').map_or(before_query, |(path, _)| path);
    let path = match before_query.split_once("://") {
        Some((scheme, rest)) if !scheme.is_empty() && !scheme.contains('/') => {
            rest.find('/').map_or("", |slash| &rest[slash..])
        }
        _ if !before_query.starts_with('/') && !before_query.starts_with('*') => "",
        _ => before_query,
    };
    (path, query.map(|query| query.split_once('#').map_or(query, |(query, _)| query)))
}

fn map_tls(tls: &Json, fields: &mut EcsFields, hashes: &mut Vec<String>) {
    if let Some(sni) = text(tls.get("sni")) {
        fields.name("tls.client.server_name", sni);
        fields.related_host(sni);
    }
    if let Some((protocol, version)) = text(tls.get("version")).and_then(tls_version) {
        fields.name("tls.version_protocol", protocol);
        fields.name("tls.version", &version);
    }
    if let Some(subject) = text(tls.get("subject")) {
        fields.text("tls.server.subject", subject);
        fields.text("tls.server.x509.subject.distinguished_name", subject);
        fields.names("tls.server.x509.subject.common_name", dn_values(subject, "CN"));
    }
    if let Some(issuer) = text(tls.get("issuerdn")) {
        fields.text("tls.server.issuer", issuer);
        fields.text("tls.server.x509.issuer.distinguished_name", issuer);
        fields.names("tls.server.x509.issuer.common_name", dn_values(issuer, "CN"));
    }
    if let Some(serial) = text(tls.get("serial")).and_then(hex_digest) {
        fields.name("tls.server.x509.serial_number", &serial);
    }
    if let Some(sha1) = text(tls.get("fingerprint")).and_then(hex_digest) {
        push_hash(hashes, &sha1);
        fields.name("tls.server.hash.sha1", &sha1);
    }
    for (key, field) in [("notbefore", "not_before"), ("notafter", "not_after")] {
        if let Some(time) = text(tls.get(key)).and_then(parse_utc_time) {
            let time = time.to_string();
            fields.name(format!("tls.server.{field}"), &time);
            fields.name(format!("tls.server.x509.{field}"), &time);
        }
    }
    for (key, field) in [("ja3", "tls.client.ja3"), ("ja3s", "tls.server.ja3s")] {
        let hash = tls.get(key).and_then(|ja3| text(ja3.get("hash")).or_else(|| ja3.as_str()));
        if let Some(hash) = hash {
            push_hash(hashes, hash);
            fields.name(field, hash);
        }
    }
    let ja4 = tls.get("ja4").and_then(|ja4| ja4.as_str().or_else(|| text(ja4.get("hash"))));
    if let Some(ja4) = ja4 {
        push_hash(hashes, ja4);
        fields.name("tls.client.ja4", ja4);
    }
    if let Some(resumed) = tls.get("session_resumed").and_then(Json::as_bool) {
        fields.flag("tls.resumed", resumed);
    }
}

/// Reads a TLS/SSL version as Suricata (`TLS 1.2`, `TLSv1`, `SSLv3`, `TLS 1.3 draft-28`) or
/// CloudTrail (`TLSv1.2`) writes it, into the ECS `tls.version_protocol` and `tls.version`:
/// `("tls", "1.2")`, `("tls", "1.0")`, `("ssl", "3.0")`. `UNDETERMINED` gives `None`.
#[must_use]
pub fn tls_version(text: &str) -> Option<(&'static str, String)> {
    let (protocol, rest) = if let Some(rest) = text.strip_prefix("TLS") {
        ("tls", rest)
    } else if let Some(rest) = text.strip_prefix("SSL") {
        ("ssl", rest)
    } else {
        return None;
    };
    let rest = rest.strip_prefix('v').or_else(|| rest.strip_prefix(' ')).unwrap_or(rest);
    let number = rest.split(' ').next().unwrap_or_default();
    let valid = !number.is_empty()
        && number.len() <= 4
        && number.bytes().all(|byte| byte.is_ascii_digit() || byte == b'.')
        && number.bytes().next().is_some_and(|byte| byte.is_ascii_digit());
    if !valid {
        return None;
    }
    let version = if number.contains('.') { number.to_owned() } else { format!("{number}.0") };
    Some((protocol, version))
}

/// The values of one attribute (`CN`) in a distinguished name written `C=US, O=Org, CN=name`.
fn dn_values<'a>(dn: &'a str, attribute: &str) -> Vec<&'a str> {
    dn.split(", ")
        .filter_map(|part| part.split_once('='))
        .filter(|(key, _)| key.trim().eq_ignore_ascii_case(attribute))
        .map(|(_, value)| value.trim())
        .collect()
}

/// `4a:b1:...` (or plain hex) as upper-case hex without separators, the ECS form of
/// certificate hashes and serial numbers; `None` when it is not hex.
fn hex_digest(text: &str) -> Option<String> {
    let digest: String = text.chars().filter(|ch| *ch != ':').collect();
    let valid = !digest.is_empty()
        && digest.len() <= 256
        && digest.bytes().all(|byte| byte.is_ascii_hexdigit());
    valid.then(|| digest.to_ascii_uppercase())
}

fn map_flow(flow: &Json, fields: &mut EcsFields) {
    let counters = [
        ("pkts_toserver", "source.packets"),
        ("bytes_toserver", "source.bytes"),
        ("pkts_toclient", "destination.packets"),
        ("bytes_toclient", "destination.bytes"),
    ];
    let mut totals = [None::<i64>; 2];
    for (idx, (key, field)) in counters.into_iter().enumerate() {
        if let Some(count) = int(flow.get(key)).filter(|count| *count >= 0) {
            fields.int(field, count);
            let total = &mut totals[idx % 2];
            *total = Some(total.unwrap_or(0).saturating_add(count));
        }
    }
    if let Some(packets) = totals[0] {
        fields.int("network.packets", packets);
    }
    if let Some(bytes) = totals[1] {
        fields.int("network.bytes", bytes);
    }
    map_flow_times(flow, fields);
}

/// A netflow record counts one direction only: what the source sent.
fn map_netflow(netflow: &Json, fields: &mut EcsFields) {
    for (key, field) in [("pkts", "packets"), ("bytes", "bytes")] {
        if let Some(count) = int(netflow.get(key)).filter(|count| *count >= 0) {
            fields.int(format!("source.{field}"), count);
            fields.int(format!("network.{field}"), count);
        }
    }
    map_flow_times(netflow, fields);
}

fn map_flow_times(flow: &Json, fields: &mut EcsFields) {
    let start = text(flow.get("start")).and_then(parse_time);
    let end = text(flow.get("end")).and_then(parse_time);
    if let Some(start) = start {
        fields.name("event.start", &start.to_string());
    }
    if let Some(end) = end {
        fields.name("event.end", &end.to_string());
    }
    if let (Some(start), Some(end)) = (start, end)
        && let Ok(duration) = i64::try_from(end.as_nanosecond() - start.as_nanosecond())
        && duration >= 0
    {
        fields.int("event.duration", duration);
    }
}

fn map_fileinfo(info: &Json, fields: &mut EcsFields, hashes: &mut Vec<String>) {
    if let Some(path) = text(info.get("filename")) {
        let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
        fields.text("file.name", name);
        if name.len() != path.len() {
            fields.text("file.path", path);
        }
    }
    if let Some(size) = int(info.get("size")).filter(|size| *size >= 0) {
        fields.int("file.size", size);
    }
    // `magic` is libmagic's description ("PE32 executable ..."), rarely a MIME type: it is
    // only taken as `file.mime_type` when it has the `type/subtype` form.
    if let Some(magic) = text(info.get("magic")).filter(|magic| is_mime_type(magic)) {
        fields.name("file.mime_type", magic);
    }
    for (key, length) in [("md5", 32), ("sha1", 40), ("sha256", 64)] {
        if let Some(hash) = text(info.get(key))
            && hash.len() == length
            && hash.bytes().all(|byte| byte.is_ascii_hexdigit())
        {
            let hash = hash.to_ascii_lowercase();
            fields.name(format!("file.hash.{key}"), &hash);
            push_hash(hashes, &hash);
        }
    }
}

fn is_mime_type(text: &str) -> bool {
    let token = |part: &str| {
        !part.is_empty()
            && part.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&byte))
    };
    let essence = text.split(';').next().unwrap_or_default().trim();
    essence.split_once('/').is_some_and(|(kind, subtype)| token(kind) && token(subtype))
}

/// SMTP envelope (`smtp`) and the parsed message (`email`) into ECS `email.*`.
fn map_email(document: &Json, fields: &mut EcsFields) {
    let smtp = document.get("smtp");
    let email = document.get("email");
    if smtp.is_none() && email.is_none() {
        return;
    }
    let from = text(smtp.and_then(|smtp| smtp.get("mail_from")))
        .or_else(|| text(email.and_then(|email| email.get("from"))));
    if let Some(from) = from.and_then(mail_address) {
        fields.name("email.from.address", from);
    }
    let to: Vec<&str> = smtp
        .and_then(|smtp| smtp.get("rcpt_to"))
        .or_else(|| email.and_then(|email| email.get("to")))
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .filter_map(mail_address)
        .collect();
    fields.names("email.to.address", to);
    let Some(email) = email else { return };
    if let Some(subject) = text(email.get("subject")) {
        fields.text("email.subject", subject);
    }
    if let Some(message_id) = text(email.get("message_id")) {
        fields.name("email.message_id", message_id);
    }
    let attachments = email.get("attachment").and_then(Json::as_array).into_iter().flatten();
    fields.names("email.attachments.file.name", attachments.filter_map(Json::as_str));
}

/// The address in `<user@example.com>` or `"Name" <user@example.com>`, or the text itself
/// when it has no angle brackets; `None` when empty (the null sender `<>`).
fn mail_address(text: &str) -> Option<&str> {
    let address = match (text.rfind('<'), text.rfind('>')) {
        (Some(open), Some(close)) if open < close => text.get(open + 1..close)?,
        _ => text,
    };
    let address = address.trim();
    (!address.is_empty()).then_some(address)
}

/// Parses an EVE time: `2026-12-01T10:00:00.123456+0000` (Suricata's form), also with `Z` or
/// an offset with a colon. A time without an offset gives `None`: it would be the sensor's
/// local time, which the record does not state.
#[must_use]
pub fn parse_time(text: &str) -> Option<Timestamp> {
    if text.len() > 48 || !text.is_ascii() || text.len() < 20 {
        return None;
    }
    let bytes = text.as_bytes();
    let digits_at = |positions: &[usize]| positions.iter().all(|&at| bytes[at].is_ascii_digit());
    let shape = digits_at(&[0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18])
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && matches!(bytes[10], b'T' | b' ')
        && bytes[13] == b':'
        && bytes[16] == b':';
    if !shape {
        return None;
    }
    let mut at = 19;
    if bytes[at] == b'.' {
        at += 1;
        let start = at;
        while at < bytes.len() && bytes[at].is_ascii_digit() {
            at += 1;
        }
        if at == start || at - start > 9 {
            return None;
        }
    }
    let (date_time, offset) = text.split_at(at);
    let offset = match offset.as_bytes() {
        [b'Z' | b'z'] => "+00:00".to_owned(),
        [sign @ (b'+' | b'-'), h1, h2, m1, m2] => {
            format!(
                "{}{}{}:{}{}",
                *sign as char, *h1 as char, *h2 as char, *m1 as char, *m2 as char
            )
        }
        [b'+' | b'-', _, _, b':', _, _] => offset.to_owned(),
        _ => return None,
    };
    let (date, time) = date_time.split_at(10);
    format!("{date}T{}{offset}", &time[1..]).parse().ok()
}

/// A certificate validity time: Suricata writes `notbefore`/`notafter` without an offset,
/// and they are UTC (as X.509 states them).
fn parse_utc_time(text: &str) -> Option<Timestamp> {
    parse_time(text)
        .or_else(|| if text.len() == 19 { parse_time(&format!("{text}Z")) } else { None })
}

/// `00:1e:68:aa:bb:cc` as the ECS form `00-1E-68-AA-BB-CC`; `None` when not a MAC address.
fn ecs_mac(text: &str) -> Option<String> {
    let parts: Vec<&str> = text.split([':', '-']).collect();
    let valid = parts.len() == 6
        && parts.iter().all(|part| part.len() == 2 && part.bytes().all(|b| b.is_ascii_hexdigit()));
    valid.then(|| parts.join("-").to_ascii_uppercase())
}

fn push_hash(hashes: &mut Vec<String>, hash: &str) {
    if !hash.is_empty() && !hashes.iter().any(|known| known == hash) {
        hashes.push(hash.to_owned());
    }
}

/// A string value, `None` for anything else (a number, an object, null).
fn text(value: Option<&Json>) -> Option<&str> {
    value.and_then(Json::as_str).filter(|text| !text.is_empty())
}

/// An integer value, written as a JSON number or as decimal text (Suricata 6 wrote the HTTP
/// status as text).
fn int(value: Option<&Json>) -> Option<i64> {
    match value? {
        Json::Number(number) => number.as_i64(),
        Json::String(text) => ecs::parse_int(text),
        _ => None,
    }
}

/// A scalar as text: strings as they are, numbers in their JSON spelling (exact for u64).
fn scalar_text(value: &Json) -> Option<String> {
    match value {
        Json::String(text) if !text.is_empty() => Some(text.clone()),
        Json::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// Caps every string value (and every string in a list) at `max` bytes, on a character
/// boundary.
pub(crate) fn cap_values(fields: &mut [(Str, Value)], max: usize) {
    fn cap_value(value: &mut Value, max: usize) {
        match value {
            Value::Str(text) if text.as_str().len() > max => {
                *text = Text::new(ecs::cap(text.as_str(), max));
            }
            Value::List(items) => items.iter_mut().for_each(|item| cap_value(item, max)),
            _ => {}
        }
    }
    for (_, value) in fields {
        cap_value(value, max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eve_times_parse_exactly() {
        let time = parse_time("2026-12-01T10:00:00.123456+0000").expect("eve time");
        assert_eq!(time.to_string(), "2026-12-01T10:00:00.123456Z");
        let time = parse_time("2017-04-07T22:24:37.251547+0100").expect("eve time");
        assert_eq!(time.to_string(), "2017-04-07T21:24:37.251547Z");
        let time = parse_time("1969-12-31T16:04:21.000000-0800").expect("negative offset");
        assert_eq!(time.to_string(), "1970-01-01T00:04:21Z");
        assert!(parse_time("2026-12-01T10:00:00+05:30").is_some());
        assert!(parse_time("2026-12-01T10:00:00Z").is_some());
        assert_eq!(parse_time("2009-11-24T21:27:09.534255"), None);
        assert_eq!(parse_time("2026-12-01T10:00:00.+0000"), None);
        assert_eq!(parse_time("2026-13-01T10:00:00+0000"), None);
        assert_eq!(parse_time("2026-12-01T10:00:00+000"), None);
        assert_eq!(parse_time("2026-12-01T10:00:0é+0000"), None);
        assert_eq!(parse_time(""), None);
    }

    #[test]
    fn tls_versions() {
        assert_eq!(tls_version("TLS 1.2"), Some(("tls", "1.2".to_owned())));
        assert_eq!(tls_version("TLSv1.3"), Some(("tls", "1.3".to_owned())));
        assert_eq!(tls_version("TLSv1"), Some(("tls", "1.0".to_owned())));
        assert_eq!(tls_version("SSLv3"), Some(("ssl", "3.0".to_owned())));
        assert_eq!(tls_version("TLS 1.3 draft-28"), Some(("tls", "1.3".to_owned())));
        assert_eq!(tls_version("UNDETERMINED"), None);
        assert_eq!(tls_version("TLSv"), None);
        assert_eq!(tls_version("TLS 99999.1"), None);
    }

    #[test]
    fn request_targets_split() {
        assert_eq!(split_target("/a/b?x=1&y=2"), ("/a/b", Some("x=1&y=2")));
        assert_eq!(split_target("/"), ("/", None));
        assert_eq!(split_target("http://example.com:8080/p?q"), ("/p", Some("q")));
        assert_eq!(split_target("http://example.com"), ("", None));
        assert_eq!(split_target("example.com:443"), ("", None));
        assert_eq!(split_target("/p#frag"), ("/p", None));
        assert_eq!(split_target("/é?ü"), ("/é", Some("ü")));
    }

    #[test]
    fn small_helpers() {
        assert_eq!(ecs_mac("00:1e:68:aa:bb:0c").as_deref(), Some("00-1E-68-AA-BB-0C"));
        assert_eq!(ecs_mac("00:1e:68:aa:bb"), None);
        assert_eq!(hex_digest("4a:b1:0F").as_deref(), Some("4AB10F"));
        assert_eq!(hex_digest("zz"), None);
        assert_eq!(dn_values("C=US, O=Example, CN=www.example.com", "CN"), ["www.example.com"]);
        assert_eq!(mail_address("\"Bob\" <bob@example.com>"), Some("bob@example.com"));
        assert_eq!(mail_address("<>"), None);
        assert!(is_mime_type("application/x-dosexec"));
        assert!(!is_mime_type("PE32 executable (GUI) Intel 80386, for MS Windows"));
    }
}
