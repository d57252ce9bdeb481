//! One Zeek record (its typed fields by their Zeek names) to an event: the fields kept under
//! `zeek.<path>.*` and the ECS fields of its log. The JSON and TSV readers both end here, so
//! a record gives the same event whichever writer wrote it.

use std::net::IpAddr;

use palisade_event::{Event, Str, Timestamp, Value};

use crate::ecs::{EcsFields, MAX_NAME_LEN, MAX_TEXT_LEN, cap, parse_int};

/// Most items kept of one set or vector.
const MAX_LIST_LEN: usize = 1024;

/// Builds the event of one record of log `path` (already validated), from its fields by their
/// Zeek names (`ts`, `id.orig_h`...), typed.
pub(super) fn build(path: &str, timestamp: Option<Timestamp>, raw: &Event) -> Event {
    let record = Record { raw };
    let dataset = format!("zeek.{path}");
    let mut fields = EcsFields::new();
    match path {
        "conn" => conn(&record, &dataset, &mut fields),
        "dns" => dns(&record, &dataset, &mut fields),
        "http" => http(&record, &dataset, &mut fields),
        "ssl" => ssl(&record, &dataset, &mut fields),
        "files" => files(&record, &dataset, &mut fields),
        "notice" => notice(&record, &dataset, &mut fields),
        "weird" => weird(&record, &dataset, &mut fields),
        _ => {
            fields.categorize(Str::copy(&dataset), "event", &[], &[], None);
            endpoints(&record, &mut fields);
            transport(&record, &mut fields);
        }
    }
    if let Some(uid) = record.text("uid") {
        fields.name("zeek.session_id", uid);
    }
    let mut copy: Vec<(Str, Value)> = Vec::with_capacity(raw.len());
    for (name, value) in raw.fields() {
        // `_path` is the dataset already.
        if name != "_path" {
            copy.push((Str::from(format!("zeek.{path}.{name}")), capped(value)));
        }
    }
    let mut event = Event::from_fields(copy);
    fields.apply(&mut event);
    event.set_timestamp(timestamp);
    event
}

/// Read access to a record's typed fields, lenient about the type: a field typed as text
/// (no `#types` line, or a value that did not read as its type) is still read as a number or
/// a boolean when it is one.
struct Record<'a> {
    raw: &'a Event,
}

impl<'a> Record<'a> {
    /// A non-empty text value.
    fn text(&self, name: &str) -> Option<&'a str> {
        match self.raw.get(name)? {
            Value::Str(text) if !text.as_str().is_empty() => Some(text.as_str()),
            _ => None,
        }
    }

    fn int(&self, name: &str) -> Option<i64> {
        match self.raw.get(name)? {
            Value::Int(int) => Some(*int),
            Value::Str(text) => parse_int(text.as_str()),
            _ => None,
        }
    }

    fn float(&self, name: &str) -> Option<f64> {
        match self.raw.get(name)? {
            Value::Float(float) => Some(*float).filter(|float| float.is_finite()),
            Value::Int(int) => Some(*int as f64),
            Value::Str(text) => text.as_str().parse::<f64>().ok().filter(|float| float.is_finite()),
            _ => None,
        }
    }

    fn flag(&self, name: &str) -> Option<bool> {
        match self.raw.get(name)? {
            Value::Bool(flag) => Some(*flag),
            Value::Str(text) => match text.as_str() {
                "T" | "true" => Some(true),
                "F" | "false" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// The non-empty text items of a set or vector (or of a single text value).
    fn texts(&self, name: &str) -> Vec<&'a str> {
        match self.raw.get(name) {
            Some(Value::List(items)) => items
                .iter()
                .take(MAX_LIST_LEN)
                .filter_map(|item| match item {
                    Value::Str(text) if !text.as_str().is_empty() => Some(text.as_str()),
                    _ => None,
                })
                .collect(),
            Some(Value::Str(text)) if !text.as_str().is_empty() => vec![text.as_str()],
            _ => Vec::new(),
        }
    }

    /// The numeric items of a vector, or `None` when one is not a number.
    fn floats(&self, name: &str) -> Option<Vec<f64>> {
        match self.raw.get(name)? {
            Value::List(items) => items
                .iter()
                .take(MAX_LIST_LEN)
                .map(|item| match item {
                    Value::Float(float) if float.is_finite() => Some(*float),
                    Value::Int(int) => Some(*int as f64),
                    _ => None,
                })
                .collect(),
            _ => None,
        }
    }
}

/// A value as kept under `zeek.*`: text capped at [`MAX_TEXT_LEN`], lists at
/// [`MAX_LIST_LEN`] items.
fn capped(value: &Value) -> Value {
    match value {
        Value::Str(text) if text.as_str().len() > MAX_TEXT_LEN => {
            Value::from(cap(text.as_str(), MAX_TEXT_LEN))
        }
        Value::List(items) => Value::List(items.iter().take(MAX_LIST_LEN).map(capped).collect()),
        other => other.clone(),
    }
}

fn port(fields: &mut EcsFields, field: &'static str, value: Option<i64>) {
    if let Some(port) = value
        && (0..=65535).contains(&port)
    {
        fields.int(field, port);
    }
}

/// True when the record's ports are ports: for ICMP Zeek's "ports" are the ICMP type and
/// code, and for other transports (`unknown_transport`) they are 0.
fn has_ports(record: &Record<'_>) -> bool {
    record
        .text("proto")
        .is_none_or(|proto| proto.eq_ignore_ascii_case("tcp") || proto.eq_ignore_ascii_case("udp"))
}

/// The connection 4-tuple (`id.orig_h`, `id.orig_p`, `id.resp_h`, `id.resp_p`) as
/// `source.*`/`destination.*`; ports only for TCP and UDP (see [`has_ports`]; the values stay
/// under `zeek.*`).
fn endpoints(record: &Record<'_>, fields: &mut EcsFields) {
    let ports = has_ports(record);
    if let Some(ip) = record.text("id.orig_h") {
        fields.ip("source.ip", ip);
    }
    if let Some(ip) = record.text("id.resp_h") {
        fields.ip("destination.ip", ip);
    }
    if ports {
        port(fields, "source.port", record.int("id.orig_p"));
        port(fields, "destination.port", record.int("id.resp_p"));
    }
}

/// `network.transport` from `proto` (`tcp`, `udp`, `icmp`, or `ipv6-icmp` for ICMP between
/// IPv6 addresses); Zeek's `unknown_transport` is left out.
fn transport(record: &Record<'_>, fields: &mut EcsFields) {
    let Some(proto) = record.text("proto") else { return };
    let proto = proto.to_ascii_lowercase();
    let transport = match proto.as_str() {
        "tcp" | "udp" => proto.as_str(),
        "icmp" => {
            let ipv6 = record
                .text("id.orig_h")
                .and_then(crate::ecs::ip_text)
                .and_then(|ip| ip.parse::<IpAddr>().ok())
                .is_some_and(|ip| ip.is_ipv6());
            if ipv6 { "ipv6-icmp" } else { "icmp" }
        }
        _ => return,
    };
    fields.name("network.transport", transport);
}

/// `event.duration` (nanoseconds) from an interval in seconds.
fn duration(record: &Record<'_>, name: &str, fields: &mut EcsFields) {
    if let Some(seconds) = record.float(name)
        && (0.0..1e9).contains(&seconds)
    {
        fields.int("event.duration", (seconds * 1e9).round() as i64);
    }
}

/// What each TCP `conn_state` says: ECS `event.type` and, for TCP, `event.outcome`
/// (established or not). See docs/parsers/zeek.md for the table.
fn conn_state(state: Option<&str>) -> (&'static [&'static str], Option<&'static str>) {
    match state {
        Some("SF" | "RSTO" | "RSTR") => (&["connection", "start", "end"], Some("success")),
        Some("S1" | "S2" | "S3") => (&["connection", "start"], Some("success")),
        Some("S0" | "SH" | "RSTOS0") => (&["connection", "start"], Some("failure")),
        Some("REJ") => (&["connection", "start", "denied"], Some("failure")),
        Some(_) => (&["connection", "info"], None),
        None => (&["connection"], None),
    }
}

fn conn(record: &Record<'_>, dataset: &str, fields: &mut EcsFields) {
    let (types, outcome) = conn_state(record.text("conn_state"));
    // An unanswered UDP flow (S0) is normal (syslog, NetFlow): only TCP has an outcome.
    let tcp = record.text("proto").is_some_and(|proto| proto.eq_ignore_ascii_case("tcp"));
    fields.categorize(Str::copy(dataset), "event", &["network"], types, outcome.filter(|_| tcp));
    endpoints(record, fields);
    transport(record, fields);
    if let Some(uid) = record.text("uid") {
        fields.name("event.id", uid);
    }
    let services: Vec<String> = record
        .text("service")
        .map(|service| {
            service
                .split(',')
                .map(str::trim)
                .filter(|name| !name.is_empty() && !name.starts_with('-'))
                .take(16)
                .map(str::to_ascii_lowercase)
                .collect()
        })
        .unwrap_or_default();
    match services.as_slice() {
        [] => {}
        [one] => fields.name("network.protocol", one),
        several => fields.names("network.protocol", several.iter().map(String::as_str)),
    }
    duration(record, "duration", fields);
    let orig_bytes = record.int("orig_ip_bytes").or_else(|| record.int("orig_bytes"));
    let resp_bytes = record.int("resp_ip_bytes").or_else(|| record.int("resp_bytes"));
    let orig_pkts = record.int("orig_pkts");
    let resp_pkts = record.int("resp_pkts");
    for (field, value) in [
        ("source.bytes", orig_bytes),
        ("destination.bytes", resp_bytes),
        ("source.packets", orig_pkts),
        ("destination.packets", resp_pkts),
    ] {
        if let Some(value) = value {
            fields.int(field, value);
        }
    }
    if let (Some(orig), Some(resp)) = (orig_bytes, resp_bytes)
        && let Some(total) = orig.checked_add(resp)
    {
        fields.int("network.bytes", total);
    }
    if let (Some(orig), Some(resp)) = (orig_pkts, resp_pkts)
        && let Some(total) = orig.checked_add(resp)
    {
        fields.int("network.packets", total);
    }
    if let Some(community_id) = record.text("community_id") {
        fields.name("network.community_id", community_id);
    }
    if let Some(ip_proto) = record.int("ip_proto") {
        fields.name("network.iana_number", &ip_proto.to_string());
    }
    let direction = match (record.flag("local_orig"), record.flag("local_resp")) {
        (Some(true), Some(true)) => Some("internal"),
        (Some(true), Some(false)) => Some("outbound"),
        (Some(false), Some(true)) => Some("inbound"),
        (Some(false), Some(false)) => Some("external"),
        _ => None,
    };
    if let Some(direction) = direction {
        fields.name("network.direction", direction);
    }
    for (zeek, ecs) in [("orig_l2_addr", "source.mac"), ("resp_l2_addr", "destination.mac")] {
        if let Some(mac) = record.text(zeek).and_then(ecs_mac) {
            fields.name(ecs, &mac);
        }
    }
    for (zeek, ecs) in [("vlan", "network.vlan.id"), ("inner_vlan", "network.inner.vlan.id")] {
        if let Some(vlan) = record.int(zeek) {
            fields.name(ecs, &vlan.to_string());
        }
    }
}

/// A MAC address in ECS form (`00-0C-29-AB-CD-EF`), from Zeek's `00:0c:29:ab:cd:ef`.
fn ecs_mac(text: &str) -> Option<String> {
    let octets: Vec<&str> = text.split([':', '-']).collect();
    let valid = octets.len() == 6
        && octets
            .iter()
            .all(|octet| octet.len() == 2 && octet.bytes().all(|b| b.is_ascii_hexdigit()));
    valid.then(|| octets.join("-").to_ascii_uppercase())
}

fn dns(record: &Record<'_>, dataset: &str, fields: &mut EcsFields) {
    let outcome = record
        .text("rcode_name")
        .map(|rcode| if rcode.eq_ignore_ascii_case("NOERROR") { "success" } else { "failure" });
    fields.categorize(Str::copy(dataset), "event", &["network"], &["protocol"], outcome);
    endpoints(record, fields);
    transport(record, fields);
    fields.name("network.protocol", "dns");
    if let Some(query) = record.text("query") {
        fields.name("dns.question.name", query);
        fields.related_host(query.strip_suffix('.').unwrap_or(query));
    }
    for (zeek, ecs) in [
        ("qtype_name", "dns.question.type"),
        ("qclass_name", "dns.question.class"),
        ("rcode_name", "dns.response_code"),
    ] {
        if let Some(value) = record.text(zeek) {
            fields.name(ecs, value);
        }
    }
    if let Some(id) = record.int("trans_id") {
        fields.name("dns.id", &id.to_string());
    }
    let flags: Vec<&str> = ["AA", "TC", "RD", "RA"]
        .into_iter()
        .filter(|flag| record.flag(flag) == Some(true))
        .collect();
    fields.names("dns.header_flags", flags);
    let answers = record.texts("answers");
    let answered = !answers.is_empty() || record.text("rcode_name").is_some();
    fields.name("dns.type", if answered { "answer" } else { "query" });
    if !answers.is_empty() {
        let data = answers.iter().map(|answer| Value::from(cap(answer, MAX_TEXT_LEN))).collect();
        fields.set("dns.answers.data", Value::List(data));
        // The TTLs pair with the answers item by item; a vector of another length is kept
        // under zeek.dns.TTLs only.
        if let Some(ttls) = record.floats("TTLs")
            && ttls.len() == answers.len()
        {
            let ttls = ttls.iter().map(|ttl| Value::Int(ttl.round() as i64)).collect();
            fields.set("dns.answers.ttl", Value::List(ttls));
        }
        let mut resolved = Vec::new();
        for answer in &answers {
            if let Some(ip) = crate::ecs::ip_text(answer) {
                resolved.push(ip);
                fields.related_ip(ip);
            } else {
                fields.related_host(answer.strip_suffix('.').unwrap_or(answer));
            }
        }
        fields.names("dns.resolved_ip", resolved);
    }
}

/// Splits an HTTP `Host` value into the host and the port (`example.com:8080`,
/// `[2001:db8::1]:8080`); a bare IPv6 address has no port.
fn split_host(host: &str) -> (&str, Option<&str>) {
    if let Some(rest) = host.strip_prefix('[')
        && let Some((inner, after)) = rest.split_once(']')
    {
        return (inner, after.strip_prefix(':').filter(|port| crate::ecs::is_digits(port)));
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && crate::ecs::is_digits(port) => {
            (name, Some(port))
        }
        _ => (host, None),
    }
}

fn http(record: &Record<'_>, dataset: &str, fields: &mut EcsFields) {
    let status = record.int("status_code");
    let outcome = status.and_then(|status| match status {
        100..=399 => Some("success"),
        400..=599 => Some("failure"),
        _ => None,
    });
    fields.categorize(
        Str::copy(dataset),
        "event",
        &["network", "web"],
        &["access", "protocol"],
        outcome,
    );
    endpoints(record, fields);
    fields.name("network.protocol", "http");
    if let Some(method) = record.text("method") {
        fields.name("http.request.method", method);
    }
    // A request in absolute form (`GET http://example.net/ HTTP/1.1`) goes to a proxy: the
    // destination is the proxy, and the Host the site behind it.
    let origin_form = record.text("uri").is_none_or(|uri| !uri.contains("://"));
    if let Some(host) = record.text("host") {
        let (name, host_port) = split_host(host);
        fields.name("url.domain", name);
        if origin_form && crate::ecs::ip_text(name).is_none() {
            fields.host("destination.domain", name);
        } else {
            fields.related_host(name);
        }
        if let Some(host_port) = host_port {
            fields.port("url.port", host_port);
        }
    }
    if let Some(uri) = record.text("uri") {
        fields.text("url.original", uri);
        url_parts(uri, fields);
    }
    if let Some(status) = status {
        fields.int("http.response.status_code", status);
    }
    for (zeek, ecs) in [
        ("request_body_len", "http.request.body.bytes"),
        ("response_body_len", "http.response.body.bytes"),
    ] {
        if let Some(bytes) = record.int(zeek) {
            fields.int(ecs, bytes);
        }
    }
    if let Some(referrer) = record.text("referrer") {
        fields.text("http.request.referrer", referrer);
    }
    if let Some(agent) = record.text("user_agent") {
        fields.text("user_agent.original", agent);
    }
    if let Some(version) = record.text("version") {
        fields.name("http.version", version);
    }
    if let Some(user) = record.text("username") {
        fields.user("user.name", user);
    }
    for (zeek, ecs) in [
        ("orig_mime_types", "http.request.mime_type"),
        ("resp_mime_types", "http.response.mime_type"),
    ] {
        if let Some(first) = record.texts(zeek).first() {
            fields.name(ecs, first);
        }
    }
}

/// `url.path`, `url.query` and, for a request in absolute form (to a proxy), `url.scheme`.
fn url_parts(uri: &str, fields: &mut EcsFields) {
    let mut rest = uri;
    for scheme in ["http", "https"] {
        if let Some(after) = uri
            .get(..scheme.len() + 3)
            .filter(|prefix| prefix.eq_ignore_ascii_case(&format!("{scheme}://")))
            .and_then(|_| uri.get(scheme.len() + 3..))
        {
            fields.name("url.scheme", scheme);
            rest = after.find('/').and_then(|slash| after.get(slash..)).unwrap_or("");
        }
    }
    let (before_fragment, _) = rest.split_once('#').unwrap_or((rest, ""));
    let (path, query) = match before_fragment.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (before_fragment, None),
    };
    fields.text("url.path", path);
    if let Some(query) = query {
        fields.text("url.query", query);
    }
}

/// `tls.version` and `tls.version_protocol` from Zeek's version names (`TLSv13` → `1.3`,
/// `tls`; `SSLv3` → `3.0`, `ssl`; `DTLSv12` → `1.2`, `dtls`).
fn tls_version(version: &str) -> Option<(&'static str, String)> {
    let (protocol, digits) = if let Some(digits) = version.strip_prefix("DTLSv") {
        ("dtls", digits)
    } else if let Some(digits) = version.strip_prefix("TLSv") {
        ("tls", digits)
    } else if let Some(digits) = version.strip_prefix("SSLv") {
        ("ssl", digits)
    } else {
        return None;
    };
    let mut chars = digits.chars();
    let major = chars.next().filter(char::is_ascii_digit)?;
    let minor = chars.next().unwrap_or('0');
    if !minor.is_ascii_digit() || chars.next().is_some() {
        return None;
    }
    Some((protocol, format!("{major}.{minor}")))
}

/// The attributes of an X.500 distinguished name as written by Zeek
/// (`CN=www.example.com,O=Example\, Inc.,C=US`): `(attribute, value)` pairs, split on commas
/// that are not escaped.
fn dn_parts(dn: &str) -> Vec<(String, String)> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = dn.chars();
    let mut flush = |current: &mut String| {
        if let Some((key, value)) = current.split_once('=') {
            parts.push((key.trim().to_ascii_uppercase(), value.trim().to_owned()));
        }
        current.clear();
    };
    while let Some(ch) = chars.next() {
        match ch {
            '\\' => {
                if let Some(escaped) = chars.next() {
                    current.push(escaped);
                }
            }
            ',' => flush(&mut current),
            other => current.push(other),
        }
    }
    flush(&mut current);
    parts
}

/// `<prefix>.common_name`, `.organization`... from a distinguished name.
fn x509_name(dn: &str, prefix: &str, fields: &mut EcsFields) {
    let parts = dn_parts(dn);
    for (attribute, suffix) in [
        ("CN", "common_name"),
        ("O", "organization"),
        ("OU", "organizational_unit"),
        ("L", "locality"),
        ("ST", "state_or_province"),
        ("C", "country"),
    ] {
        let values =
            parts.iter().filter(|(key, _)| key == attribute).map(|(_, value)| value.as_str());
        fields.names(format!("{prefix}.{suffix}"), values);
    }
    fields.name(format!("{prefix}.distinguished_name"), cap(dn, MAX_NAME_LEN));
}

fn ssl(record: &Record<'_>, dataset: &str, fields: &mut EcsFields) {
    let outcome = record
        .flag("established")
        .map(|established| if established { "success" } else { "failure" });
    fields.categorize(Str::copy(dataset), "event", &["network"], &["protocol"], outcome);
    endpoints(record, fields);
    if let Some((protocol, number)) = record.text("version").and_then(tls_version) {
        fields.name("tls.version", &number);
        fields.name("tls.version_protocol", protocol);
        fields.name("network.protocol", protocol);
    }
    for (zeek, ecs) in [
        ("cipher", "tls.cipher"),
        ("curve", "tls.curve"),
        ("next_protocol", "tls.next_protocol"),
        ("ja3", "tls.client.ja3"),
        ("ja3s", "tls.server.ja3s"),
        ("not_valid_before", "tls.server.not_before"),
        ("not_valid_after", "tls.server.not_after"),
    ] {
        if let Some(value) = record.text(zeek) {
            fields.name(ecs, value);
        }
    }
    if let Some(server_name) = record.text("server_name") {
        fields.name("tls.client.server_name", server_name);
        fields.host("destination.domain", server_name);
    }
    for (zeek, ecs) in [("established", "tls.established"), ("resumed", "tls.resumed")] {
        if let Some(flag) = record.flag(zeek) {
            fields.flag(ecs, flag);
        }
    }
    for (zeek, side, x509) in [
        ("subject", "tls.server.subject", "tls.server.x509.subject"),
        ("issuer", "tls.server.issuer", "tls.server.x509.issuer"),
        ("client_subject", "tls.client.subject", "tls.client.x509.subject"),
        ("client_issuer", "tls.client.issuer", "tls.client.x509.issuer"),
    ] {
        if let Some(dn) = record.text(zeek) {
            fields.text(side, dn);
            x509_name(dn, x509, fields);
        }
    }
    // The first fingerprint of each chain is the end-entity certificate's (SHA-256 by
    // default: `SSL::ssl_cert_chain_fps` uses `X509::hash_function`).
    for (zeek, ecs) in [
        ("cert_chain_fps", "tls.server.hash.sha256"),
        ("client_cert_chain_fps", "tls.client.hash.sha256"),
    ] {
        if let Some(first) = record.texts(zeek).first()
            && is_hex(first, 64)
        {
            fields.name(ecs, first);
        }
    }
}

fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|byte| byte.is_ascii_hexdigit())
}

fn files(record: &Record<'_>, dataset: &str, fields: &mut EcsFields) {
    fields.categorize(Str::copy(dataset), "event", &["file"], &["info"], None);
    endpoints(record, fields);
    if let Some(fuid) = record.text("fuid") {
        fields.name("event.id", fuid);
    }
    // Zeek before 6.0 logged the hosts as sets, with no direction that fits source and
    // destination: they only feed related.ip.
    for hosts in ["tx_hosts", "rx_hosts"] {
        for host in record.texts(hosts) {
            fields.related_ip(host);
        }
    }
    if let Some(mime_type) = record.text("mime_type") {
        fields.name("file.mime_type", mime_type);
    }
    if let Some(filename) = record.text("filename") {
        fields.name("file.name", filename);
    }
    if let Some(size) = record.int("total_bytes") {
        fields.int("file.size", size);
    }
    duration(record, "duration", fields);
    let mut hashes = Vec::new();
    for (zeek, ecs, len) in [
        ("md5", "file.hash.md5", 32),
        ("sha1", "file.hash.sha1", 40),
        ("sha256", "file.hash.sha256", 64),
    ] {
        if let Some(hash) = record.text(zeek)
            && is_hex(hash, len)
        {
            fields.name(ecs, hash);
            hashes.push(hash);
        }
    }
    fields.names("related.hash", hashes);
}

fn notice(record: &Record<'_>, dataset: &str, fields: &mut EcsFields) {
    fields.categorize(Str::copy(dataset), "alert", &["intrusion_detection"], &["info"], None);
    transport(record, fields);
    // `src`/`dst` name the hosts the notice is about; the connection's 4-tuple fills in what
    // they leave out, and its ports only where the address is the connection's.
    let ports = has_ports(record);
    let orig = record.text("id.orig_h");
    let resp = record.text("id.resp_h");
    let source = record.text("src").or(orig);
    let destination = record.text("dst").or(resp);
    if let Some(ip) = source {
        fields.ip("source.ip", ip);
        if ports && source == orig {
            port(fields, "source.port", record.int("id.orig_p"));
        }
    }
    if let Some(ip) = destination {
        fields.ip("destination.ip", ip);
    }
    if ports {
        let destination_port = if destination.is_some() && destination == resp {
            record.int("id.resp_p")
        } else {
            None
        };
        port(fields, "destination.port", destination_port.or_else(|| record.int("p")));
    }
    if let Some(note) = record.text("note") {
        fields.name("rule.name", note);
    }
    if let Some(msg) = record.text("msg") {
        fields.text("message", msg);
    }
    if let Some(mime_type) = record.text("file_mime_type") {
        fields.name("file.mime_type", mime_type);
    }
}

fn weird(record: &Record<'_>, dataset: &str, fields: &mut EcsFields) {
    fields.categorize(Str::copy(dataset), "event", &["network"], &["info"], None);
    endpoints(record, fields);
    if let Some(name) = record.text("name") {
        fields.name("event.action", name);
        let message = match record.text("addl") {
            Some(addl) => format!("{name}: {addl}"),
            None => name.to_owned(),
        };
        fields.text("message", &message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_versions_read_as_ecs_wants() {
        assert_eq!(tls_version("TLSv13"), Some(("tls", "1.3".to_owned())));
        assert_eq!(tls_version("TLSv10"), Some(("tls", "1.0".to_owned())));
        assert_eq!(tls_version("SSLv3"), Some(("ssl", "3.0".to_owned())));
        assert_eq!(tls_version("SSLv2"), Some(("ssl", "2.0".to_owned())));
        assert_eq!(tls_version("DTLSv12"), Some(("dtls", "1.2".to_owned())));
        assert_eq!(tls_version("unknown-64282"), None);
        assert_eq!(tls_version("TLSv"), None);
        assert_eq!(tls_version("TLSv1x"), None);
        assert_eq!(tls_version("TLSv123"), None);
    }

    #[test]
    fn distinguished_names_split_on_unescaped_commas() {
        assert_eq!(
            dn_parts("CN=*.example.com,O=Example\\, Inc.,C=US"),
            vec![
                ("CN".to_owned(), "*.example.com".to_owned()),
                ("O".to_owned(), "Example, Inc.".to_owned()),
                ("C".to_owned(), "US".to_owned()),
            ]
        );
        assert!(dn_parts("").is_empty());
        assert!(dn_parts("garbage\\").is_empty());
    }

    #[test]
    fn hosts_and_urls_split() {
        assert_eq!(split_host("example.com:8080"), ("example.com", Some("8080")));
        assert_eq!(split_host("[2001:db8::1]:8443"), ("2001:db8::1", Some("8443")));
        assert_eq!(split_host("2001:db8::1"), ("2001:db8::1", None));
        assert_eq!(split_host("example.com"), ("example.com", None));
        let event = {
            let mut fields = EcsFields::new();
            url_parts("http://example.com:8080/a/b?x=1#frag", &mut fields);
            fields.into_event()
        };
        assert_eq!(event.get_str("url.scheme").as_deref(), Some("http"));
        assert_eq!(event.get_str("url.path").as_deref(), Some("/a/b"));
        assert_eq!(event.get_str("url.query").as_deref(), Some("x=1"));
    }

    #[test]
    fn macs_become_ecs_form() {
        assert_eq!(ecs_mac("00:0c:29:ab:cd:ef").as_deref(), Some("00-0C-29-AB-CD-EF"));
        assert_eq!(ecs_mac("00:0c:29:ab:cd"), None);
        assert_eq!(ecs_mac("zz:0c:29:ab:cd:ef"), None);
    }
}
