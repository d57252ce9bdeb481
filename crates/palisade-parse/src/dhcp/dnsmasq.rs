//! dnsmasq DHCP lines (`log_packet()` in `rfc2131.c`, `log6_packet()` in `rfc3315.c`):
//! `[XID ]TYPE(IFACE) [ADDR ]ID[ TEXT]`, where ID is the client's MAC (DHCPv4) or DUID
//! (DHCPv6) and TEXT the host name (ACK, REPLY) or why the request failed. With `log-dhcp`,
//! each line starts with the transaction id, and detail lines (`XID tags: ...`) follow.
//!
//! DHCPv4 and DHCPv6 share some type names (`DHCPREQUEST`, `DHCPRELEASE`, `DHCPDECLINE`): an
//! IPv6 address, or a client id longer than a MAC with no IPv4 address, marks DHCPv6.

use std::net::IpAddr;

use super::{
    ACK, Action, BOOTP, DATASET_DNSMASQ, DECLINE, DETAIL, DISCOVER, INFORM, NAK, NO_FREE_LEASES,
    OFFER, RELEASE, REQUEST, categorize, client_name, duid, hardware_address, hex_octets,
    v6_action, word,
};
use crate::ecs::{EcsFields, is_digits};

/// The `log-dhcp` detail lines recognised, by their prefix.
const DETAIL_PREFIXES: &[&str] = &[
    "available DHCP range: ",
    "available DHCP subnet: ",
    "available DHCPv6 range: ",
    "vendor class: ",
    "user class: ",
    "client provides name: ",
    "client MAC address: ",
    "tags: ",
    "requested options: ",
    "next server: ",
    "sent size: ",
    "broadcast response",
    "bootfile name: ",
    "server name: ",
    "PXE(",
];

pub(super) fn parse(message: &str) -> Option<EcsFields> {
    let (first, rest) = word(message);
    let (xid, line) = if is_digits(first) && first.len() <= 10 {
        (first.parse::<u32>().ok(), rest)
    } else {
        (None, message)
    };
    let mut fields = match packet(line) {
        Some(fields) => fields,
        None => detail(xid?, line)?,
    };
    if let Some(xid) = xid {
        fields.int("dhcp.transaction_id", i64::from(xid));
    }
    Some(fields)
}

/// `TYPE(IFACE) [ADDR ]ID[ TEXT]`.
fn packet(line: &str) -> Option<EcsFields> {
    let (kind, rest) = line.split_once('(')?;
    let (interface, rest) = rest.split_once(')')?;
    let body = rest.strip_prefix(' ')?;
    if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_uppercase() || b == b'-') {
        return None;
    }
    if interface.is_empty() || interface.contains(' ') {
        return None;
    }
    let (first, rest) = word(body);
    let (address, id, text) = match first.parse::<IpAddr>() {
        Ok(address) => {
            let (id, text) = word(rest);
            (Some(address), id, text)
        }
        Err(_) => (None, first, rest),
    };
    let octets = hex_octets(id)?;
    let v6 = match address {
        Some(IpAddr::V6(_)) => true,
        Some(IpAddr::V4(_)) => false,
        None => octets.len() > 8,
    };
    let text = text.trim();
    let message_type = kind.strip_prefix("DHCP").unwrap_or(kind);
    let (action, dataset_v6) = if v6 || kind == "DHCPSOLICIT" || kind == "DHCPADVERTISE" {
        (v6_action(message_type)?, true)
    } else {
        let action: &Action = match kind {
            "DHCPDISCOVER" if text == "no address available" => &NO_FREE_LEASES,
            "DHCPDISCOVER" => &DISCOVER,
            "DHCPOFFER" => &OFFER,
            "DHCPREQUEST" => &REQUEST,
            "DHCPACK" => &ACK,
            "DHCPNAK" => &NAK,
            "DHCPRELEASE" => &RELEASE,
            "DHCPDECLINE" => &DECLINE,
            "DHCPINFORM" => &INFORM,
            "BOOTP" => &BOOTP,
            _ => return None,
        };
        (action, false)
    };
    let mut fields = EcsFields::new();
    if let Some(address) = address {
        fields.ip("client.ip", &address.to_string());
    }
    if dataset_v6 {
        duid(&mut fields, id);
    } else {
        hardware_address(&mut fields, id);
    }
    fields.name("observer.ingress.interface.name", interface);
    categorize(&mut fields, DATASET_DNSMASQ, action, kind);
    // The host name follows the id on the lines that grant a lease; elsewhere the text says
    // why the server would not (`wrong address`, `no address available`, `ignored`).
    let names_host = matches!(kind, "DHCPACK" | "DHCPREPLY" | "DHCPADVERTISE" | "BOOTP");
    if !text.is_empty() {
        if names_host && !text.contains(' ') {
            client_name(&mut fields, text);
        } else {
            fields.text("dhcp.error", text);
            fields.text("event.reason", text);
        }
    }
    Some(fields)
}

/// `XID DETAIL` lines of `log-dhcp`.
fn detail(xid: u32, line: &str) -> Option<EcsFields> {
    let _ = xid;
    if !DETAIL_PREFIXES.iter().any(|prefix| line.starts_with(prefix)) {
        return None;
    }
    let mut fields = EcsFields::new();
    categorize(&mut fields, DATASET_DNSMASQ, &DETAIL, "");
    fields.text("dhcp.detail", line);
    if let Some(name) = line.strip_prefix("client provides name: ") {
        fields.name("dhcp.client.provided_name", name);
    } else if let Some(class) = line.strip_prefix("vendor class: ") {
        fields.name("dhcp.client.vendor_class", class);
    } else if let Some(class) = line.strip_prefix("user class: ") {
        fields.name("dhcp.client.user_class", class);
    } else if let Some(tags) = line.strip_prefix("tags: ") {
        fields.names("dhcp.tags", tags.split(", ").map(str::trim));
    } else if let Some(mac) = line.strip_prefix("client MAC address: ") {
        hardware_address(&mut fields, mac.trim());
    }
    Some(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_and_v6_share_names() {
        let v4 = packet("DHCPREQUEST(eth0) 192.0.2.50 00:11:22:33:44:55").unwrap().into_event();
        assert_eq!(v4.get_str("event.action").as_deref(), Some("dhcp_request"));
        let v6 = packet("DHCPREQUEST(eth0) 00:01:00:01:2a:3b:4c:5d:00:11:22:33:44:55")
            .unwrap()
            .into_event();
        assert_eq!(v6.get_str("event.action").as_deref(), Some("dhcpv6_request"));
        assert_eq!(v6.get_str("client.mac").as_deref(), Some("00-11-22-33-44-55"));
        assert!(packet("DHCP x is 192.0.2.5").is_none());
        assert!(packet("DHCPACK(eth0)").is_none());
    }
}
