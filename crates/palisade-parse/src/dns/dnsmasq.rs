//! dnsmasq `log-queries` lines (`log_query()` in dnsmasq's `cache.c`):
//! `SOURCE NAME VERB DEST[EXTRA]`, with `log-queries=extra` putting a serial and the client
//! (`1234 192.0.2.7/53211 `) in front so that the lines of one query can be joined.
//!
//! SOURCE is `query[TYPE]` (verb `from`), `forwarded` or `dnssec-query[TYPE]` (verb `to`), or
//! where an answer came from (verb `is`): `reply` (upstream), `cached`, `cached-stale`,
//! `config` (`address=`, `local=`...), `DHCP` (a lease name), `auth`, a hosts file path, or
//! `validation` (DNSSEC status). A reverse answer swaps the sides: `reply 192.0.2.5 is
//! host.example.com`.

use std::net::IpAddr;

use super::{Action, DATASET_DNSMASQ, arpa_name, categorize, dns_name, qtype, rcode_name, word};
use crate::ecs::{EcsFields, ip_text, is_digits};

const QUERY: Action = Action {
    name: "dns_query",
    category: &["network"],
    types: &["protocol"],
    outcome: None,
    description: "A client asked a question (BIND `querylog`, dnsmasq `log-queries`).",
    example: ("dnsmasq", "query[A] www.example.com from 192.0.2.7"),
};
const ANSWER: Action = Action {
    name: "dns_answer",
    category: &["network"],
    types: &["protocol"],
    outcome: None,
    description: "dnsmasq answered, from upstream (`reply`), its cache, its configuration, DHCP leases or a hosts file.",
    example: ("dnsmasq", "reply www.example.com is 93.184.216.34"),
};
const FORWARD: Action = Action {
    name: "dns_forward",
    category: &["network"],
    types: &["protocol"],
    outcome: None,
    description: "dnsmasq sent the question to an upstream server (`destination.ip`).",
    example: ("dnsmasq", "forwarded www.example.com to 198.51.100.1"),
};
const DNSSEC_QUERY: Action = Action {
    name: "dns_dnssec_query",
    category: &["network"],
    types: &["protocol"],
    outcome: None,
    description: "dnsmasq asked an upstream server for a DNSSEC record (DS, DNSKEY) to validate an answer.",
    example: ("dnsmasq", "dnssec-query[DS] example.com to 198.51.100.1"),
};
const VALIDATION: Action = Action {
    name: "dns_validation",
    category: &["network"],
    types: &["protocol"],
    outcome: None,
    description: "The DNSSEC validation result of an answer (`dnsmasq.dnssec.status`: SECURE, INSECURE, BOGUS, ...).",
    example: ("dnsmasq", "validation example.com is BOGUS"),
};
const IPSET_ADD: Action = Action {
    name: "dns_ipset_add",
    category: &["network"],
    types: &["info"],
    outcome: None,
    description: "dnsmasq added a resolved address to a firewall set (`ipset=`, `nftset=`).",
    example: ("dnsmasq", "ipset add blocklist 192.0.2.99 ads.example.net"),
};
const REBIND_BLOCKED: Action = Action {
    name: "dns_rebind_blocked",
    category: &["network"],
    types: &["protocol", "denied"],
    outcome: Some("failure"),
    description: "dnsmasq dropped an upstream answer pointing a public name at a private address (`stop-dns-rebind`).",
    example: ("dnsmasq", "possible DNS-rebind attack detected: intranet.example.net"),
};

pub(super) static ACTIONS: &[Action] =
    &[QUERY, ANSWER, FORWARD, DNSSEC_QUERY, VALIDATION, IPSET_ADD, REBIND_BLOCKED];

/// Parses a dnsmasq message. `None` for anything else, DHCP lines included.
pub(super) fn parse(message: &str) -> Option<EcsFields> {
    if let Some(name) = message.strip_prefix("possible DNS-rebind attack detected: ") {
        let mut fields = EcsFields::new();
        categorize(&mut fields, DATASET_DNSMASQ, &REBIND_BLOCKED);
        fields.name("dns.type", "answer");
        dns_name(&mut fields, "dns.question.name", name.trim());
        return Some(fields);
    }
    let (serial, client, line) = extra_prefix(message)?;
    let mut fields = parse_query_line(line)?;
    if let Some(serial) = serial {
        fields.int_text("dnsmasq.serial", serial);
    }
    if let Some((ip, port)) = client {
        fields.ip("source.ip", ip);
        fields.ip("client.ip", ip);
        fields.port("source.port", port);
        fields.port("client.port", port);
    }
    Some(fields)
}

/// Splits the `log-queries=extra` prefix: `SERIAL CLIENT/PORT `, `SERIAL ` (lines not tied to
/// one client), or `* CLIENT/PORT ` (dnsmasq before 2.86). Returns the serial, the client and
/// the rest.
#[allow(clippy::type_complexity)]
fn extra_prefix(message: &str) -> Option<(Option<&str>, Option<(&str, &str)>, &str)> {
    let (first, rest) = word(message);
    let serial = if is_digits(first) && first.len() <= 18 {
        Some(first)
    } else if first == "*" {
        None
    } else {
        return Some((None, None, message));
    };
    let (second, after) = word(rest);
    if let Some((address, port)) = second.rsplit_once('/')
        && let Some(ip) = ip_text(address)
        && is_digits(port)
    {
        return Some((serial, Some((ip, port)), after));
    }
    let serial = serial?;
    Some((Some(serial), None, rest))
}

fn parse_query_line(line: &str) -> Option<EcsFields> {
    let (source, rest) = word(line);
    if source.is_empty() {
        return None;
    }
    if source == "ipset" || source == "nftset" {
        return parse_set_add(source, rest);
    }
    let (name, rest) = word(rest);
    let (verb, dest) = word(rest);
    if name.is_empty() || dest.is_empty() {
        return None;
    }
    let mut fields = EcsFields::new();
    match verb {
        "from" => {
            let rtype = bracketed(source, "query")?;
            let (client, _extra) = word(dest);
            ip_text(client)?;
            categorize(&mut fields, DATASET_DNSMASQ, &QUERY);
            fields.name("dns.type", "query");
            dns_name(&mut fields, "dns.question.name", name);
            fields.name("dns.question.type", &qtype(rtype));
            fields.ip("source.ip", client);
            fields.ip("client.ip", client);
        }
        "to" => {
            let (server, extra) = word(dest);
            let (address, port) = server.split_once('#').unwrap_or((server, ""));
            ip_text(address)?;
            if source == "forwarded" {
                categorize(&mut fields, DATASET_DNSMASQ, &FORWARD);
            } else {
                let rtype = bracketed(source, "dnssec-query")?;
                categorize(&mut fields, DATASET_DNSMASQ, &DNSSEC_QUERY);
                fields.name("dns.question.type", &qtype(rtype));
            }
            fields.name("dns.type", "query");
            dns_name(&mut fields, "dns.question.name", name);
            fields.ip("destination.ip", address);
            fields.ip("server.ip", address);
            if !port.is_empty() {
                fields.port("destination.port", port);
                fields.port("server.port", port);
            }
            extras(&mut fields, extra);
        }
        "is" => {
            if source == "validation" {
                let (status, extra) = word(dest);
                categorize(&mut fields, DATASET_DNSMASQ, &VALIDATION);
                fields.name("dns.type", "answer");
                dns_name(&mut fields, "dns.question.name", name);
                fields.name("dnsmasq.dnssec.status", status);
                extras(&mut fields, extra);
            } else {
                let (origin, rtype) = answer_source(source)?;
                categorize(&mut fields, DATASET_DNSMASQ, &ANSWER);
                fields.name("dns.type", "answer");
                fields.name("dnsmasq.source", origin);
                answer(&mut fields, name, dest, rtype);
            }
        }
        _ => return None,
    }
    Some(fields)
}

/// `query[A]` → `A`.
fn bracketed<'a>(source: &'a str, word: &str) -> Option<&'a str> {
    let rtype = source.strip_prefix(word)?.strip_prefix('[')?.strip_suffix(']')?;
    (!rtype.is_empty()).then_some(rtype)
}

/// Where an answer came from, and the type dnsmasq may append (`/etc/hosts[A]`).
fn answer_source(source: &str) -> Option<(&str, Option<&str>)> {
    let (origin, rtype) = match source.split_once('[') {
        Some((origin, tail)) => (origin, Some(tail.strip_suffix(']')?)),
        None => (source, None),
    };
    let known = matches!(origin, "reply" | "cached" | "cached-stale" | "config" | "DHCP" | "auth")
        || (origin.starts_with('/') && origin.len() > 1);
    known.then_some((origin, rtype))
}

/// The right-hand side of `NAME is DEST`: an address, a name (reverse answers), `NXDOMAIN`,
/// `NODATA[-IPv4|-IPv6]`, an RCODE, or `<TYPE>` for a record dnsmasq does not print.
fn answer(fields: &mut EcsFields, name: &str, dest: &str, source_type: Option<&str>) {
    let (data, extra) = split_extra(dest);
    // A reverse answer: `reply 192.0.2.5 is host.example.com`.
    if let Some(ip) = ip_text(name)
        && let Ok(address) = ip.parse::<IpAddr>()
    {
        let arpa = arpa_name(address);
        dns_name(fields, "dns.question.name", &arpa);
        fields.name("dns.question.type", "PTR");
        fields.related_ip(ip);
        fields.name("dns.response_code", "NOERROR");
        dns_name(fields, "dns.answers.name", &arpa);
        fields.name("dns.answers.type", "PTR");
        fields.set("dns.answers.data", palisade_event::Value::from(super::short(data)));
        fields.related_host(data);
        extras(fields, extra);
        return;
    }
    dns_name(fields, "dns.question.name", name);
    if let Some(rtype) = source_type {
        fields.name("dns.question.type", &qtype(rtype));
    }
    match data {
        "NXDOMAIN" => fields.name("dns.response_code", "NXDOMAIN"),
        "NODATA" | "NODATA-IPv4" | "NODATA-IPv6" => {
            fields.name("dns.response_code", "NOERROR");
            fields.name("dnsmasq.reply", data);
            if data == "NODATA-IPv4" {
                fields.name("dns.question.type", "A");
            } else if data == "NODATA-IPv6" {
                fields.name("dns.question.type", "AAAA");
            }
        }
        "SERVFAIL" | "REFUSED" => fields.name("dns.response_code", data),
        "not implemented" => fields.name("dns.response_code", "NOTIMP"),
        _ if is_digits(data) => {
            let name = data.parse::<u16>().ok().and_then(rcode_name);
            match name {
                Some(name) => fields.name("dns.response_code", name),
                None => fields.name("dnsmasq.reply", data),
            }
        }
        _ => {
            if let Some(rtype) = data.strip_prefix('<').and_then(|d| d.strip_suffix('>')) {
                fields.name("dns.response_code", "NOERROR");
                dns_name(fields, "dns.answers.name", name);
                fields.name("dns.answers.type", &qtype(rtype));
            } else if let Some(ip) = ip_text(data) {
                let rtype = if ip.contains(':') { "AAAA" } else { "A" };
                fields.name("dns.response_code", "NOERROR");
                dns_name(fields, "dns.answers.name", name);
                fields.name("dns.answers.type", rtype);
                fields.name("dns.answers.data", ip);
                fields.names("dns.resolved_ip", [ip]);
                fields.related_ip(ip);
            } else {
                dns_name(fields, "dns.answers.name", name);
                fields.text("dns.answers.data", data);
            }
        }
    }
    extras(fields, extra);
}

/// Splits the `EXTRA` text dnsmasq appends after the destination: ` (DNSSEC signed)`,
/// ` (EDE: blocked)`. Everything before ` (` is the data ("not implemented" has a space).
fn split_extra(dest: &str) -> (&str, &str) {
    match dest.find(" (") {
        Some(at) => dest.split_at(at),
        None => (dest, ""),
    }
}

fn extras(fields: &mut EcsFields, extra: &str) {
    let extra = extra.trim();
    if extra.is_empty() {
        return;
    }
    if extra == "(DNSSEC signed)" {
        fields.flag("dnsmasq.dnssec.signed", true);
    } else if let Some(ede) = extra.strip_prefix("(EDE: ").and_then(|e| e.strip_suffix(')')) {
        fields.name("dnsmasq.ede", ede);
    } else {
        fields.text("dnsmasq.extra", extra);
    }
}

/// `ipset add SET IP NAME` / `nftset add SET IP NAME`.
fn parse_set_add(kind: &str, rest: &str) -> Option<EcsFields> {
    let rest = rest.strip_prefix("add ")?;
    let (set, rest) = word(rest);
    let (address, name) = word(rest);
    let ip = ip_text(address)?;
    if set.is_empty() || name.is_empty() {
        return None;
    }
    let mut fields = EcsFields::new();
    categorize(&mut fields, DATASET_DNSMASQ, &IPSET_ADD);
    fields.name("dns.type", "answer");
    dns_name(&mut fields, "dns.question.name", name.trim());
    fields.names("dns.resolved_ip", [ip]);
    fields.related_ip(ip);
    fields.name("dnsmasq.set.kind", kind);
    fields.name("dnsmasq.set.name", set);
    Some(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_prefixes() {
        assert_eq!(
            extra_prefix("1234 192.0.2.7/53211 query[A] x from 192.0.2.7"),
            Some((Some("1234"), Some(("192.0.2.7", "53211")), "query[A] x from 192.0.2.7"))
        );
        assert_eq!(
            extra_prefix("1234 forwarded x to 198.51.100.1"),
            Some((Some("1234"), None, "forwarded x to 198.51.100.1"))
        );
        assert_eq!(
            extra_prefix("* 2001:db8::7/53211 cached x is NXDOMAIN"),
            Some((None, Some(("2001:db8::7", "53211")), "cached x is NXDOMAIN"))
        );
        assert_eq!(extra_prefix("* forwarded"), None);
    }

    #[test]
    fn sources() {
        assert_eq!(answer_source("/etc/hosts"), Some(("/etc/hosts", None)));
        assert_eq!(answer_source("/etc/hosts[A]"), Some(("/etc/hosts", Some("A"))));
        assert_eq!(answer_source("DHCPACK(eth0)"), None);
        assert_eq!(answer_source("/"), None);
        assert_eq!(
            split_extra("not implemented (EDE: other)"),
            ("not implemented", " (EDE: other)")
        );
    }
}
