//! BIND 9 client messages: the query log and the query-errors, security, rpz and xfer-out
//! lines a SOC reads next to it.
//!
//! Every one starts with BIND's client prefix (`ns_client_log`):
//! `client [@0xOBJECT ]ADDR#PORT[/key KEY][ (QNAME)]: [view VIEW: ]MESSAGE`. The object
//! address appeared in 9.11; the query name in parentheses in 9.10. BIND escapes spaces and
//! special bytes of names as `\DDD`, so the first `": "` ends the prefix.

use super::{Action, DATASET_BIND, categorize, dns_name, is_class, is_rcode, qtype, short, word};
use crate::ecs::{EcsFields, ip_text, is_digits};

const QUERY: Action = Action {
    name: "dns_query",
    category: &["network"],
    types: &["protocol"],
    outcome: None,
    description: "A client asked a question (BIND `querylog`, dnsmasq `log-queries`).",
    example: (
        "named",
        "client @0x7f1b2c003f10 192.0.2.7#53211 (www.example.com): query: www.example.com IN A +E(0)K (192.0.2.1)",
    ),
};
const QUERY_DENIED: Action = Action {
    name: "dns_query_denied",
    category: &["network"],
    types: &["protocol", "denied"],
    outcome: Some("failure"),
    description: "BIND refused a query (`allow-query`, `allow-query-cache`, `allow-recursion`).",
    example: (
        "named",
        "client @0x7f1b2c003f10 203.0.113.9#5353 (example.com): query (cache) 'example.com/A/IN' denied",
    ),
};
const ZONE_TRANSFER_DENIED: Action = Action {
    name: "dns_zone_transfer_denied",
    category: &["network"],
    types: &["protocol", "denied"],
    outcome: Some("failure"),
    description: "BIND refused a zone transfer (`allow-transfer`): often reconnaissance.",
    example: (
        "named",
        "client @0x7f1b2c003f10 203.0.113.9#41022 (example.com): zone transfer 'example.com/AXFR/IN' denied",
    ),
};
const UPDATE_DENIED: Action = Action {
    name: "dns_update_denied",
    category: &["network"],
    types: &["protocol", "denied"],
    outcome: Some("failure"),
    description: "BIND refused a dynamic update (`allow-update`, `update-policy`) or its forwarding.",
    example: ("named", "client @0x7f1b2c003f10 203.0.113.9#41022: update 'example.com/IN' denied"),
};
const REQUEST_DENIED: Action = Action {
    name: "dns_request_denied",
    category: &["network"],
    types: &["protocol", "denied"],
    outcome: Some("failure"),
    description: "BIND refused another request (`notify`, ...); `bind.request` says which.",
    example: ("named", "client @0x7f1b2c003f10 203.0.113.9#41022: notify 'example.com/IN' denied"),
};
const QUERY_FAILED: Action = Action {
    name: "dns_query_failed",
    category: &["network"],
    types: &["protocol"],
    outcome: Some("failure"),
    description: "A query ended in an error response (query-errors category): SERVFAIL, REFUSED...",
    example: (
        "named",
        "client @0x7f1b2c003f10 192.0.2.7#53211 (www.example.com): query failed (SERVFAIL) for www.example.com/IN/AAAA at query.c:7071",
    ),
};
const RPZ_REWRITE: Action = Action {
    name: "dns_rpz_rewrite",
    category: &["network"],
    types: &["protocol"],
    outcome: None,
    description: "A response policy zone matched and rewrote (blocked, redirected or passed) the answer.",
    example: (
        "named",
        "client @0x7f1b2c003f10 192.0.2.7#53211 (login.example.net): rpz QNAME NXDOMAIN rewrite login.example.net/A/IN via login.example.net.rpz.example.org",
    ),
};
const ZONE_TRANSFER: Action = Action {
    name: "dns_zone_transfer",
    category: &["network"],
    types: &["protocol", "allowed"],
    outcome: Some("success"),
    description: "BIND served a zone transfer (xfer-out category): who copied which zone.",
    example: (
        "named",
        "client @0x7f1b2c003f10 198.51.100.53#38211 (example.com): transfer of 'example.com/IN': AXFR started (serial 2026120101)",
    ),
};

pub(super) static ACTIONS: &[Action] = &[
    QUERY,
    QUERY_DENIED,
    ZONE_TRANSFER_DENIED,
    UPDATE_DENIED,
    REQUEST_DENIED,
    QUERY_FAILED,
    RPZ_REWRITE,
    ZONE_TRANSFER,
];

/// Parses a BIND message (after any category and severity). `None` when it is not a client
/// message this module knows.
pub(super) fn parse(message: &str) -> Option<EcsFields> {
    let rest = message.strip_prefix("client ")?;
    let (prefix, body) = rest.split_once(": ")?;
    let client = ClientPrefix::parse(prefix)?;
    let (view, body) = match body.strip_prefix("view ") {
        Some(tail) => {
            let (view, body) = tail.split_once(": ")?;
            (Some(view), body)
        }
        None => (None, body),
    };
    let mut fields = EcsFields::new();
    if let Some(query) = body.strip_prefix("query: ") {
        parse_query(&mut fields, query)?;
    } else if let Some(failed) = body.strip_prefix("query failed (") {
        parse_failed(&mut fields, failed)?;
    } else if let Some(rpz) =
        body.strip_prefix("rpz ").or_else(|| body.strip_prefix("disabled rpz "))
    {
        parse_rpz(&mut fields, rpz, body.starts_with("disabled "))?;
    } else if let Some(transfer) = body.strip_prefix("transfer of '") {
        parse_transfer(&mut fields, transfer)?;
    } else {
        parse_denied(&mut fields, body)?;
    }
    client.apply(&mut fields);
    if let Some(view) = view {
        fields.name("bind.view", view);
    }
    Some(fields)
}

/// The `client ...` prefix of a BIND message.
struct ClientPrefix<'a> {
    object: Option<&'a str>,
    ip: &'a str,
    port: &'a str,
    signer: Option<&'a str>,
    qname: Option<&'a str>,
}

impl<'a> ClientPrefix<'a> {
    fn parse(prefix: &'a str) -> Option<Self> {
        let mut rest = prefix;
        let mut object = None;
        if let Some(tail) = rest.strip_prefix('@') {
            let (id, tail) = word(tail);
            object = Some(id);
            rest = tail;
        }
        // `ADDR#PORT[/key KEY][ (QNAME)]`: the address has no space; the key name (a DNS
        // name) neither; the query name is the rest, in parentheses.
        let (peer, tail) = word(rest);
        let (peer, mut signer) = match peer.split_once('/') {
            Some((peer, "key")) => {
                let (key, after) = word(tail);
                rest = after;
                (peer, Some(key))
            }
            Some(_) => return None,
            None => {
                rest = tail;
                (peer, None)
            }
        };
        let (address, port) = peer.rsplit_once('#')?;
        let ip = ip_text(address)?;
        if !is_digits(port) {
            return None;
        }
        let qname =
            if rest.is_empty() { None } else { Some(rest.strip_prefix('(')?.strip_suffix(')')?) };
        if signer.is_some_and(str::is_empty) {
            signer = None;
        }
        Some(Self { object, ip, port, signer, qname })
    }

    fn apply(&self, fields: &mut EcsFields) {
        fields.ip("source.ip", self.ip);
        fields.ip("client.ip", self.ip);
        fields.port("source.port", self.port);
        fields.port("client.port", self.port);
        if let Some(object) = self.object {
            fields.name("bind.client.object", object);
        }
        if let Some(signer) = self.signer {
            fields.name("bind.tsig_key", signer);
        }
        let _ = self.qname; // the question is read from the message itself
    }
}

/// `NAME CLASS TYPE FLAGS (SERVER)[ [ECS ...]]` (BIND 9.9 and later; 9.8 and older stop
/// after the flags).
fn parse_query(fields: &mut EcsFields, query: &str) -> Option<()> {
    let (name, rest) = word(query);
    let (class, rest) = word(rest);
    let (rtype, rest) = word(rest);
    let (flags, rest) = word(rest);
    if name.is_empty() || !is_class(class) || rtype.is_empty() {
        return None;
    }
    let flags = Flags::parse(flags)?;
    let (server, rest) = match rest.strip_prefix('(') {
        Some(tail) => {
            let (server, rest) = tail.split_once(')')?;
            (Some(server), rest.trim_start())
        }
        None => (None, rest),
    };
    categorize(fields, DATASET_BIND, &QUERY);
    fields.name("dns.type", "query");
    dns_name(fields, "dns.question.name", name);
    fields.name("dns.question.class", class);
    fields.name("dns.question.type", &qtype(rtype));
    flags.apply(fields);
    if let Some(server) = server
        && fields.ip("destination.ip", server)
    {
        fields.ip("server.ip", server);
    }
    // BIND 9.11+ appends the client-subnet option: ` [ECS 192.0.2.0/24/0]`.
    if let Some(ecs) = rest.strip_prefix("[ECS ").and_then(|tail| tail.split_once(']')) {
        fields.name("bind.query.ecs", ecs.0);
    }
    Some(())
}

/// The flags BIND prints after the type: `+`/`-` recursion desired, `S` signed, `E(n)` EDNS
/// version, `T` TCP, `D` DNSSEC OK, `C` checking disabled, `V` valid server cookie, `K` a
/// cookie without a valid server cookie.
#[derive(Debug, Default, PartialEq)]
struct Flags<'a> {
    raw: &'a str,
    recursion_desired: bool,
    signed: bool,
    edns_version: Option<i64>,
    tcp: bool,
    dnssec_ok: bool,
    checking_disabled: bool,
    cookie: Option<&'static str>,
}

impl<'a> Flags<'a> {
    fn parse(raw: &'a str) -> Option<Self> {
        let mut flags = Flags { raw, ..Flags::default() };
        let mut chars = raw.char_indices();
        match chars.next()?.1 {
            '+' => flags.recursion_desired = true,
            '-' => {}
            _ => return None,
        }
        let mut rest = raw.get(1..)?;
        while let Some(ch) = rest.chars().next() {
            rest = rest.get(ch.len_utf8()..)?;
            match ch {
                'S' => flags.signed = true,
                'T' => flags.tcp = true,
                'D' => flags.dnssec_ok = true,
                'C' => flags.checking_disabled = true,
                'V' => flags.cookie = Some("valid"),
                'K' => flags.cookie = Some("present"),
                'E' => {
                    let tail = rest.strip_prefix('(')?;
                    let (version, after) = tail.split_once(')')?;
                    if !is_digits(version) || version.len() > 3 {
                        return None;
                    }
                    flags.edns_version = version.parse().ok();
                    rest = after;
                }
                _ => return None,
            }
        }
        Some(flags)
    }

    fn apply(&self, fields: &mut EcsFields) {
        let mut header = Vec::new();
        if self.recursion_desired {
            header.push("RD");
        }
        if self.checking_disabled {
            header.push("CD");
        }
        if self.dnssec_ok {
            header.push("DO");
        }
        fields.names("dns.header_flags", header);
        fields.name("network.transport", if self.tcp { "tcp" } else { "udp" });
        fields.name("bind.query.flags", self.raw);
        if self.signed {
            fields.flag("bind.query.signed", true);
        }
        if let Some(version) = self.edns_version {
            fields.int("bind.query.edns_version", version);
        }
        if let Some(cookie) = self.cookie {
            fields.name("bind.query.cookie", cookie);
        }
    }
}

/// `WHAT 'N/T/C' denied[ (REASON)]`: `query`, `query (cache)`, `zone transfer`, `update`
/// (whose spec is `ZONE/CLASS`), `update forwarding`, `notify`...
fn parse_denied(fields: &mut EcsFields, body: &str) -> Option<()> {
    let (what, spec) = body.split_once(" '")?;
    let end = spec.rfind("' denied")?;
    let (spec, tail) = spec.split_at(end);
    let reason = tail.strip_prefix("' denied")?.trim();
    if what.is_empty() || what.len() > 40 || what.contains('\'') {
        return None;
    }
    let action = if what == "query" || what.starts_with("query (") {
        &QUERY_DENIED
    } else if what == "zone transfer" {
        &ZONE_TRANSFER_DENIED
    } else if what.starts_with("update") {
        &UPDATE_DENIED
    } else {
        &REQUEST_DENIED
    };
    categorize(fields, DATASET_BIND, action);
    question_spec(fields, spec, SpecOrder::TypeClass);
    fields.name("bind.request", what);
    if !reason.is_empty() {
        let reason = reason.strip_prefix('(').and_then(|r| r.strip_suffix(')')).unwrap_or(reason);
        fields.text("event.reason", reason);
    }
    Some(())
}

/// `RESULT) for N/C/T at FILE:LINE` (query-errors).
fn parse_failed(fields: &mut EcsFields, failed: &str) -> Option<()> {
    let (result, rest) = failed.split_once(") for ")?;
    let (spec, location) = rest.rsplit_once(" at ").unwrap_or((rest, ""));
    categorize(fields, DATASET_BIND, &QUERY_FAILED);
    fields.name("dns.type", "answer");
    question_spec(fields, spec, SpecOrder::ClassType);
    if is_rcode(result) {
        fields.name("dns.response_code", result);
    } else {
        fields.name("bind.error", result);
    }
    fields.name("bind.error_location", location);
    Some(())
}

/// `TYPE POLICY rewrite N/T/C via P[ (CNAME to: X)]`.
fn parse_rpz(fields: &mut EcsFields, rpz: &str, disabled: bool) -> Option<()> {
    let (trigger, rest) = word(rpz);
    let (policy, rest) = rest.split_once(" rewrite ")?;
    let (spec, via) = rest.split_once(" via ")?;
    if trigger.is_empty() || policy.is_empty() {
        return None;
    }
    let (via, cname) = match via.split_once(" (CNAME to: ") {
        Some((via, cname)) => (via, cname.strip_suffix(')')),
        None => (via, None),
    };
    categorize(fields, DATASET_BIND, &RPZ_REWRITE);
    question_spec(fields, spec, SpecOrder::TypeClass);
    fields.name("bind.rpz.trigger", trigger);
    fields.name("bind.rpz.policy", policy);
    fields.name("bind.rpz.rule", via);
    if let Some(cname) = cname {
        dns_name(fields, "bind.rpz.cname", cname);
    }
    fields.flag("bind.rpz.disabled", disabled);
    Some(())
}

/// `Z/C': AXFR started (serial N)`, `IXFR ended`... (xfer-out).
fn parse_transfer(fields: &mut EcsFields, transfer: &str) -> Option<()> {
    let (spec, status) = transfer.split_once("': ")?;
    let (kind, _) = word(status);
    if !matches!(kind, "AXFR" | "IXFR" | "AXFR-style") {
        return None;
    }
    categorize(fields, DATASET_BIND, &ZONE_TRANSFER);
    question_spec(fields, spec, SpecOrder::ClassOnly);
    fields.name("dns.question.type", if kind == "IXFR" { "IXFR" } else { "AXFR" });
    fields.text("bind.transfer.status", status);
    if let Some(serial) = status.split_once("(serial ").and_then(|(_, s)| s.strip_suffix(')')) {
        fields.name("bind.transfer.serial", serial);
    }
    Some(())
}

#[derive(Clone, Copy)]
enum SpecOrder {
    /// `name/type/class`.
    TypeClass,
    /// `name/class/type`.
    ClassType,
    /// `zone/class`.
    ClassOnly,
}

/// Sets the question from BIND's `name/type/class` (or `name/class/type`, or `zone/class`)
/// spelling. The name may itself hold a `/`, so it is read from the right; a two-part spec
/// is a zone and class whatever the expected order.
fn question_spec(fields: &mut EcsFields, spec: &str, order: SpecOrder) {
    let mut parts = spec.rsplitn(3, '/');
    let last = parts.next().unwrap_or_default();
    let middle = parts.next();
    let first = parts.next();
    let (name, class, rtype) = match (order, first, middle) {
        (SpecOrder::ClassOnly, _, Some(middle)) if is_class(last) => {
            (first.map_or(middle.to_owned(), |first| format!("{first}/{middle}")), last, None)
        }
        (_, Some(name), Some(middle)) if is_class(last) && !is_class(middle) => {
            (name.to_owned(), last, Some(middle))
        }
        (_, Some(name), Some(middle)) if is_class(middle) => (name.to_owned(), middle, Some(last)),
        (_, None, Some(name)) if is_class(last) => (name.to_owned(), last, None),
        _ => (spec.to_owned(), "", None),
    };
    dns_name(fields, "dns.question.name", &name);
    fields.name("dns.question.class", class);
    if let Some(rtype) = rtype {
        fields.name("dns.question.type", short(&qtype(rtype)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags() {
        let flags = Flags::parse("+SE(0)TDCV").unwrap();
        assert!(flags.recursion_desired && flags.signed && flags.tcp && flags.dnssec_ok);
        assert!(flags.checking_disabled);
        assert_eq!(flags.edns_version, Some(0));
        assert_eq!(flags.cookie, Some("valid"));
        assert!(!Flags::parse("-").unwrap().recursion_desired);
        assert!(Flags::parse("+E(").is_none());
        assert!(Flags::parse("+X").is_none());
        assert!(Flags::parse("IN").is_none());
        assert!(Flags::parse("").is_none());
    }

    #[test]
    fn client_prefix() {
        let client =
            ClientPrefix::parse("@0x7f1b2c003f10 2001:db8::7#53211/key tsig.example. (x.example)")
                .unwrap();
        assert_eq!(client.object, Some("0x7f1b2c003f10"));
        assert_eq!(client.ip, "2001:db8::7");
        assert_eq!(client.port, "53211");
        assert_eq!(client.signer, Some("tsig.example."));
        assert_eq!(client.qname, Some("x.example"));
        assert!(ClientPrefix::parse("192.0.2.7").is_none());
        assert!(ClientPrefix::parse("example.com#53").is_none());
        assert!(ClientPrefix::parse("192.0.2.7#53 x").is_none());
    }

    #[test]
    fn specs() {
        let mut fields = EcsFields::new();
        question_spec(&mut fields, "a/b.example.com/IN/A", SpecOrder::ClassType);
        let event = fields.into_event();
        assert_eq!(event.get_str("dns.question.name").as_deref(), Some("a/b.example.com"));
        assert_eq!(event.get_str("dns.question.type").as_deref(), Some("A"));
        let mut fields = EcsFields::new();
        question_spec(&mut fields, "example.com/IN", SpecOrder::TypeClass);
        let event = fields.into_event();
        assert_eq!(event.get_str("dns.question.name").as_deref(), Some("example.com"));
        assert_eq!(event.get_str("dns.question.class").as_deref(), Some("IN"));
        assert!(event.get("dns.question.type").is_none());
    }
}
