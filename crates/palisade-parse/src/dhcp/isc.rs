//! ISC dhcpd lines (`server/dhcp.c`, `server/dhcpv6.c`).
//!
//! A DHCPv4 line ends with `via IFACE` (the interface the packet came in on) or `via RELAY`
//! (the relay agent's address, giaddr), then for some messages `: ERROR` or ` (found)`. The
//! client's host name is printed in parentheses as the client sent it, so it may hold spaces,
//! parentheses or even the word `via`: the line is read from its fixed parts (`from MAC `,
//! the last ` via `) inward.

use super::{
    ACK, Action, DATASET_DHCPD, DECLINE, DISCOVER, DUPLICATE_UID, INFORM, NAK, NO_FREE_LEASES,
    OFFER, RELEASE, REQUEST, REQUEST_REJECTED, categorize, client_name, duid, hardware_address,
    v6_action, word,
};
use crate::ecs::{EcsFields, is_digits};

pub(super) fn parse(message: &str) -> Option<EcsFields> {
    let (kind, rest) = word(message);
    match kind {
        "DHCPDISCOVER" => discover(rest.strip_prefix("from ")?),
        "DHCPOFFER" => on_to(&OFFER, kind, rest.strip_prefix("on ")?),
        "DHCPACK" => match rest.strip_prefix("on ") {
            Some(rest) => on_to(&ACK, kind, rest),
            None => ack_inform(rest.strip_prefix("to ")?),
        },
        "DHCPNAK" => on_to(&NAK, kind, rest.strip_prefix("on ")?),
        "DHCPREQUEST" => request(rest.strip_prefix("for ")?),
        "DHCPRELEASE" => of_from(&RELEASE, kind, rest.strip_prefix("of ")?),
        "DHCPDECLINE" => of_from(&DECLINE, kind, rest.strip_prefix("of ")?),
        "DHCPINFORM" => inform(rest.strip_prefix("from ")?),
        "uid" => duplicate_uid(rest.strip_prefix("lease ")?),
        "Sending" => v6_sending(rest),
        _ => v6_message(kind, rest),
    }
}

/// The end of a DHCPv4 line: `... via TARGET[: ERROR| (STATUS)]`. Returns the text before
/// ` via `, the target and the suffix.
fn split_via(text: &str) -> Option<(&str, &str, &str)> {
    let (before, after) = match text.strip_prefix("via ") {
        Some(after) => ("", after),
        None => text.rsplit_once(" via ")?,
    };
    let (target, suffix) = word(after);
    // `via eth0: network ...` puts the colon on the target; an alias `eth0:1` keeps its own.
    let (target, suffix) = match target.strip_suffix(':') {
        Some(target) => (target, suffix),
        None => (target, suffix),
    };
    if target.is_empty() {
        return None;
    }
    Some((before, target, suffix.trim()))
}

/// Sets the interface or the relay a packet came through.
fn via(fields: &mut EcsFields, target: &str) {
    if !fields.ip("dhcp.relay.ip", target) {
        fields.name("observer.ingress.interface.name", target);
    }
}

/// `MAC [(HOST)]` (what precedes ` via `). `<no identifier>` stands for a client without one.
fn client(fields: &mut EcsFields, text: &str) -> Option<()> {
    let text = text.trim();
    let (id, host) = if text.starts_with('<') {
        let end = text.find('>')?;
        let (placeholder, rest) = text.split_at(end + 1);
        fields.name("dhcp.client.id", placeholder);
        (None, rest.trim())
    } else {
        let (id, host) = word(text);
        (Some(id), host.trim())
    };
    if let Some(id) = id
        && !hardware_address(fields, id)
    {
        return None;
    }
    if !host.is_empty() {
        let host = host.strip_prefix('(')?.strip_suffix(')')?;
        client_name(fields, host);
    }
    Some(())
}

fn discover(rest: &str) -> Option<EcsFields> {
    let (client_part, target, suffix) = split_via(rest)?;
    let mut fields = EcsFields::new();
    client(&mut fields, client_part)?;
    via(&mut fields, target);
    let no_free = suffix
        .strip_prefix("network ")
        .and_then(|tail| tail.split_once(": "))
        .filter(|(_, error)| *error == "no free leases");
    if let Some((network, error)) = no_free {
        categorize(&mut fields, DATASET_DHCPD, &NO_FREE_LEASES, "DHCPDISCOVER");
        fields.name("dhcp.network", network);
        fields.text("dhcp.error", error);
        fields.text("event.reason", error);
    } else {
        categorize(&mut fields, DATASET_DHCPD, &DISCOVER, "DHCPDISCOVER");
        fields.text("dhcp.error", suffix);
    }
    Some(fields)
}

/// `IP to MAC [(HOST) ]via TARGET` (OFFER, ACK, NAK).
fn on_to(action: &Action, kind: &str, rest: &str) -> Option<EcsFields> {
    let (address, rest) = word(rest);
    let rest = rest.strip_prefix("to ")?;
    let (client_part, target, suffix) = split_via(rest)?;
    let mut fields = EcsFields::new();
    if !fields.ip("client.ip", address) {
        return None;
    }
    client(&mut fields, client_part)?;
    via(&mut fields, target);
    categorize(&mut fields, DATASET_DHCPD, action, kind);
    fields.text("dhcp.error", suffix);
    Some(fields)
}

/// `DHCPACK to IP (MAC) via TARGET`: the answer to a DHCPINFORM.
fn ack_inform(rest: &str) -> Option<EcsFields> {
    let (address, rest) = word(rest);
    let (client_part, target, _) = split_via(rest)?;
    let mut fields = EcsFields::new();
    if !fields.ip("client.ip", address) {
        return None;
    }
    let id = client_part.trim().strip_prefix('(')?.strip_suffix(')')?;
    if !hardware_address(&mut fields, id) {
        fields.name("dhcp.client.id", id);
    }
    via(&mut fields, target);
    categorize(&mut fields, DATASET_DHCPD, &ACK, "DHCPACK");
    fields.flag("dhcp.inform", true);
    Some(fields)
}

/// `IP [(SERVER) ]from MAC [(HOST) ]via TARGET[: ERROR]`.
fn request(rest: &str) -> Option<EcsFields> {
    let (address, rest) = word(rest);
    let (server, rest) = match rest.strip_prefix('(') {
        Some(tail) => {
            let (server, rest) = tail.split_once(") ")?;
            (Some(server), rest)
        }
        None => (None, rest),
    };
    let rest = rest.strip_prefix("from ")?;
    let (client_part, target, error) = split_via(rest)?;
    let mut fields = EcsFields::new();
    if !fields.ip("client.ip", address) {
        return None;
    }
    if let Some(server) = server
        && !fields.ip("server.ip", server)
    {
        return None;
    }
    client(&mut fields, client_part)?;
    via(&mut fields, target);
    if error.is_empty() {
        categorize(&mut fields, DATASET_DHCPD, &REQUEST, "DHCPREQUEST");
    } else {
        categorize(&mut fields, DATASET_DHCPD, &REQUEST_REJECTED, "DHCPREQUEST");
        fields.text("dhcp.error", error);
        fields.text("event.reason", error.strip_suffix('.').unwrap_or(error));
    }
    Some(fields)
}

/// `IP from MAC [(HOST) ]via TARGET[ (found)| (not found)|: STATUS]` (RELEASE, DECLINE).
fn of_from(action: &Action, kind: &str, rest: &str) -> Option<EcsFields> {
    let (address, rest) = word(rest);
    let rest = rest.strip_prefix("from ")?;
    let (client_part, target, suffix) = split_via(rest)?;
    let mut fields = EcsFields::new();
    if !fields.ip("client.ip", address) {
        return None;
    }
    client(&mut fields, client_part)?;
    via(&mut fields, target);
    categorize(&mut fields, DATASET_DHCPD, action, kind);
    match suffix {
        "(found)" => fields.flag("dhcp.lease_found", true),
        "(not found)" => fields.flag("dhcp.lease_found", false),
        _ => fields.text("dhcp.status", suffix),
    }
    Some(fields)
}

/// `DHCPINFORM from IP via TARGET`.
fn inform(rest: &str) -> Option<EcsFields> {
    let (address, target, suffix) = split_via(rest)?;
    let mut fields = EcsFields::new();
    if !fields.ip("client.ip", address) {
        return None;
    }
    via(&mut fields, target);
    categorize(&mut fields, DATASET_DHCPD, &INFORM, "DHCPINFORM");
    fields.text("dhcp.error", suffix);
    Some(fields)
}

/// `uid lease IP for client MAC is duplicate on NET`.
fn duplicate_uid(rest: &str) -> Option<EcsFields> {
    let (address, rest) = word(rest);
    let rest = rest.strip_prefix("for client ")?;
    let (id, rest) = word(rest);
    let network = rest.strip_prefix("is duplicate on ")?;
    let mut fields = EcsFields::new();
    if !fields.ip("client.ip", address) || !hardware_address(&mut fields, id) {
        return None;
    }
    categorize(&mut fields, DATASET_DHCPD, &DUPLICATE_UID, "");
    fields.name("dhcp.network", network.trim());
    Some(fields)
}

/// `Solicit message from ADDR port N, transaction ID 0xABCDEF`, `Relay-forward message from
/// ADDR port N, link address L, peer address P`, and the lease lines `Advertise NA: address A
/// to client with duid D iaid = N valid for N seconds` (`TA`, and `PD: prefix P/LEN`).
fn v6_message(kind: &str, rest: &str) -> Option<EcsFields> {
    if let Some(rest) = rest.strip_prefix("message from ") {
        let action = v6_action(kind)?;
        let (address, rest) = word(rest);
        let rest = rest.strip_prefix("port ")?;
        let (port, rest) = rest.split_once(',').unwrap_or((rest, ""));
        let mut fields = EcsFields::new();
        if !fields.ip("source.ip", address) || !fields.port("source.port", port) {
            return None;
        }
        categorize(&mut fields, DATASET_DHCPD, action, kind);
        let rest = rest.trim();
        if let Some(xid) = rest.strip_prefix("transaction ID 0x") {
            if xid.is_empty() || xid.len() > 8 || !xid.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            fields.int("dhcp.transaction_id", i64::from_str_radix(xid, 16).ok()?);
        } else if let Some(tail) = rest.strip_prefix("link address ") {
            let (link, peer) = tail.split_once(", peer address ")?;
            fields.ip("dhcp.relay.ip", address);
            fields.ip("dhcp.relay.link_address", link);
            fields.ip("dhcp.relay.peer_address", peer);
        } else if !rest.is_empty() {
            return None;
        }
        return Some(fields);
    }
    // Lease lines: `Reply NA: address ...`.
    let action = v6_action(kind)?;
    let (ia, rest) = word(rest);
    let ia = ia.strip_suffix(':')?;
    if !matches!(ia, "NA" | "TA" | "PD") {
        return None;
    }
    let (what, rest) = word(rest);
    let (lease, rest) = rest.split_once(" to client with duid ")?;
    let (client_duid, rest) = word(rest);
    let mut fields = EcsFields::new();
    match (ia, what) {
        ("PD", "prefix:" | "prefix") => {
            let (prefix, length) = lease.split_once('/')?;
            if !is_digits(length) || length.len() > 3 {
                return None;
            }
            fields.ip("dhcp.prefix.ip", prefix);
            fields.name("dhcp.prefix.value", lease);
        }
        (_, "address:" | "address") => {
            if !fields.ip("client.ip", lease) {
                return None;
            }
        }
        _ => return None,
    }
    if !duid(&mut fields, client_duid) {
        fields.name("dhcp.client.duid", client_duid);
    }
    categorize(&mut fields, DATASET_DHCPD, action, kind);
    fields.name("dhcp.ia_type", ia);
    if let Some(tail) = rest.strip_prefix("iaid = ") {
        let (iaid, tail) = word(tail);
        fields.int_text("dhcp.iaid", iaid);
        if let Some(seconds) =
            tail.strip_prefix("valid for ").and_then(|t| t.strip_suffix(" seconds"))
        {
            fields.int_text("dhcp.lease.valid_lifetime", seconds);
        }
    }
    Some(fields)
}

/// `Sending Reply to ADDR port N`.
fn v6_sending(rest: &str) -> Option<EcsFields> {
    let (kind, rest) = word(rest);
    let action = v6_action(kind)?;
    let rest = rest.strip_prefix("to ")?;
    let (address, rest) = word(rest);
    let port = rest.strip_prefix("port ")?;
    let mut fields = EcsFields::new();
    if !fields.ip("destination.ip", address) || !fields.port("destination.port", port.trim()) {
        return None;
    }
    categorize(&mut fields, DATASET_DHCPD, action, kind);
    Some(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via_is_read_from_the_end() {
        assert_eq!(
            split_via("00:11:22:33:44:55 (x) via 10.9.9.9) via eth0: wrong network."),
            Some(("00:11:22:33:44:55 (x) via 10.9.9.9)", "eth0", "wrong network."))
        );
        assert_eq!(split_via("m via eth0:1"), Some(("m", "eth0:1", "")));
        assert_eq!(split_via("m via eth0 (found)"), Some(("m", "eth0", "(found)")));
        assert_eq!(split_via("m via "), None);
        assert_eq!(split_via("m"), None);
    }
}
