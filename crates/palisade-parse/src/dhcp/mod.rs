//! DHCP server logs normalised to ECS: ISC dhcpd (DHCPv4 and `dhcpd -6`) and dnsmasq's
//! DHCP (`dnsmasq-dhcp`, DHCPv4 and DHCPv6).
//!
//! [`parse_program`] reads the message of a syslog-carried line: program `dhcpd` (or
//! `dhcpd6`) for ISC, `dnsmasq-dhcp` or `dnsmasq` for dnsmasq (only its DHCP lines; its DNS
//! lines belong to [`crate::dns`]). Anything else returns false and leaves the event alone.
//!
//! ISC dhcpd lines: `DHCPDISCOVER from MAC [(HOST) ]via IF|RELAY[: ERROR]`, `DHCPOFFER on IP to
//! MAC [(HOST) ]via ...`, `DHCPREQUEST for IP [(SERVER) ]from MAC [(HOST) ]via ...[: ERROR]`,
//! `DHCPACK on IP to MAC ...`, `DHCPACK to IP (MAC) via ...` (answer to an INFORM), `DHCPNAK on
//! IP to MAC via ...`, `DHCPRELEASE of IP from MAC ... (found)`, `DHCPDECLINE of IP from MAC
//! ...`, `DHCPINFORM from IP via ...`, `uid lease IP for client MAC is duplicate on NET`, and
//! DHCPv6: `Solicit message from ADDR port N, transaction ID 0x...`, `Sending Reply to ADDR
//! port N`, `Advertise NA: address ADDR to client with duid DUID iaid = N valid for N
//! seconds` (also `Reply`, `TA`, `PD: prefix`). dnsmasq lines: `[XID ]TYPE(IF) [ADDR ]ID[ HOST|
//! ERROR]` for DHCPv4 (`DHCPACK(eth0) 192.0.2.50 00:11:22:33:44:55 laptop`) and DHCPv6
//! (`DHCPREPLY(eth0) 2001:db8::5 00:01:00:01:... laptop`), and the `log-dhcp` detail lines
//! (`XID tags: ...`, `XID requested options: ...`, `XID client provides name: ...`), which
//! are recognised as `dhcp_detail` and carry the transaction id that joins them to their
//! packet line.
//!
//! The host name a client sent goes to `client.domain` exactly as logged (spaces and
//! non-ASCII included, capped at 256 bytes); a 6- or 8-octet hardware address to
//! `client.mac` in ECS form (`00-11-22-33-44-55`); a DHCPv6 DUID to `dhcp.client.duid`. The
//! fields and the catalogue ([`actions`]) are documented in `docs/parsers/dhcp.md`.
//!
//! Parsing is prefix, suffix and token matching on `&str`, linear in the line length, with no
//! regular expression and no panic on any input.
//!
//! | `event.action` | Lines | Category / type / outcome |
//! |---|---|---|
//! | `dhcp_discover` | `DHCPDISCOVER from MAC via IF`, `DHCPDISCOVER(IF) MAC` | network / protocol / - |
//! | `dhcp_no_free_leases` | `DHCPDISCOVER ...: network N: no free leases`, dnsmasq `... no address available` | network / protocol, denied / failure |
//! | `dhcp_offer` | `DHCPOFFER on IP to MAC via IF`, `DHCPOFFER(IF) IP MAC` | network / protocol / - |
//! | `dhcp_request` | `DHCPREQUEST for IP (SERVER) from MAC via IF`, `DHCPREQUEST(IF) IP MAC` | network / protocol / - |
//! | `dhcp_request_rejected` | `DHCPREQUEST ...: wrong network.`, `: lease IP unavailable.`, `: ignored (not authoritative).` | network / protocol, denied / failure |
//! | `dhcp_ack` | `DHCPACK on IP to MAC (HOST) via IF`, `DHCPACK to IP (MAC) via IF`, `DHCPACK(IF) IP MAC HOST` | network / protocol, allowed / success |
//! | `dhcp_nak` | `DHCPNAK on IP to MAC via IF`, `DHCPNAK(IF) IP MAC ERROR` | network / protocol, denied / failure |
//! | `dhcp_release` | `DHCPRELEASE of IP from MAC via IF (found)`, `DHCPRELEASE(IF) IP MAC` | network / protocol, end / - |
//! | `dhcp_decline` | `DHCPDECLINE of IP from MAC via IF`, `DHCPDECLINE(IF) IP MAC` (the address is in use) | network / protocol / - |
//! | `dhcp_inform` | `DHCPINFORM from IP via IF`, `DHCPINFORM(IF) IP MAC` | network / protocol / - |
//! | `dhcp_bootp` | dnsmasq `BOOTP(IF) IP MAC` | network / protocol, allowed / success |
//! | `dhcp_duplicate_uid` | `uid lease IP for client MAC is duplicate on NET` | network / info / - |
//! | `dhcp_detail` | dnsmasq `log-dhcp`: `XID tags: ...`, `XID requested options: ...`, ... | network / info / - |
//! | `dhcpv6_solicit` | `Solicit message from ADDR port N, ...`, `DHCPSOLICIT(IF) DUID` | network / protocol / - |
//! | `dhcpv6_advertise` | `Advertise NA: address ADDR to client with duid ...`, `DHCPADVERTISE(IF) ADDR DUID` | network / protocol / - |
//! | `dhcpv6_request` | `Request message from ...`, `DHCPREQUEST(IF) DUID` | network / protocol / - |
//! | `dhcpv6_confirm` | `Confirm message from ...`, `DHCPCONFIRM(IF) DUID` | network / protocol / - |
//! | `dhcpv6_renew` | `Renew message from ...`, `DHCPRENEW(IF) DUID` | network / protocol / - |
//! | `dhcpv6_rebind` | `Rebind message from ...`, `DHCPREBIND(IF) DUID` | network / protocol / - |
//! | `dhcpv6_reply` | `Reply NA: address ADDR to client with duid ...`, `DHCPREPLY(IF) ADDR DUID HOST` | network / protocol / - |
//! | `dhcpv6_release` | `Release message from ...`, `DHCPRELEASE(IF) DUID` | network / protocol, end / - |
//! | `dhcpv6_decline` | `Decline message from ...`, `DHCPDECLINE(IF) DUID` | network / protocol / - |
//! | `dhcpv6_information_request` | `Information-request message from ...`, `DHCPINFORMATION-REQUEST(IF) DUID` | network / protocol / - |
//! | `dhcpv6_relay_forward` | `Relay-forward message from ADDR port N, link address ..., peer address ...` | network / protocol / - |
//! | `dhcpv6_relay_reply` | `Sending Relay-reply to ADDR port N` | network / protocol / - |

mod dnsmasq;
mod isc;

use palisade_event::{Event, Value};

use crate::ecs::{EcsFields, MAX_NAME_LEN, cap};

/// The `event.dataset` of ISC dhcpd lines.
pub const DATASET_DHCPD: &str = "dhcpd.log";
/// The `event.dataset` of dnsmasq DHCP lines.
pub const DATASET_DNSMASQ: &str = "dnsmasq.dhcp";

/// One `event.action` value, with the categorisation every event of that action carries.
#[derive(Debug)]
pub struct Action {
    /// The `event.action` value (snake_case, stable).
    pub name: &'static str,
    /// `event.category` values.
    pub category: &'static [&'static str],
    /// `event.type` values.
    pub types: &'static [&'static str],
    /// `event.outcome`, when the line states one.
    pub outcome: Option<&'static str>,
    /// What the line means, for analysts.
    pub description: &'static str,
    /// An example line: program, then message.
    pub example: (&'static str, &'static str),
}

macro_rules! action {
    ($ident:ident, $name:literal, [$($ty:literal),*], $outcome:expr, $description:literal, $program:literal, $example:literal) => {
        const $ident: Action = Action {
            name: $name,
            category: &["network"],
            types: &[$($ty),*],
            outcome: $outcome,
            description: $description,
            example: ($program, $example),
        };
    };
}

action!(
    DISCOVER,
    "dhcp_discover",
    ["protocol"],
    None,
    "A client looks for a DHCP server: the first sign of a device on the network.",
    "dhcpd",
    "DHCPDISCOVER from 00:11:22:33:44:55 (laptop) via eth0"
);
action!(
    NO_FREE_LEASES,
    "dhcp_no_free_leases",
    ["protocol", "denied"],
    Some("failure"),
    "The pool is exhausted: no address for the client (starvation attacks look like this).",
    "dhcpd",
    "DHCPDISCOVER from 00:11:22:33:44:55 via eth0: network 192.0.2.0/24: no free leases"
);
action!(
    OFFER,
    "dhcp_offer",
    ["protocol"],
    None,
    "The server offers an address to a client.",
    "dhcpd",
    "DHCPOFFER on 192.0.2.50 to 00:11:22:33:44:55 (laptop) via eth0"
);
action!(
    REQUEST,
    "dhcp_request",
    ["protocol"],
    None,
    "A client asks for (or renews) an address; `server.ip` is the server it chose.",
    "dhcpd",
    "DHCPREQUEST for 192.0.2.50 (192.0.2.1) from 00:11:22:33:44:55 (laptop) via eth0"
);
action!(
    REQUEST_REJECTED,
    "dhcp_request_rejected",
    ["protocol", "denied"],
    Some("failure"),
    "dhcpd will not grant the requested address (`event.reason`: wrong network, unavailable, not authoritative...).",
    "dhcpd",
    "DHCPREQUEST for 10.1.1.20 from 00:11:22:33:44:55 via eth0: wrong network."
);
action!(
    ACK,
    "dhcp_ack",
    ["protocol", "allowed"],
    Some("success"),
    "The server grants the lease: `client.ip` is now used by `client.mac`.",
    "dhcpd",
    "DHCPACK on 192.0.2.50 to 00:11:22:33:44:55 (laptop) via eth0"
);
action!(
    NAK,
    "dhcp_nak",
    ["protocol", "denied"],
    Some("failure"),
    "The server refuses the client's request (wrong network, address taken...).",
    "dhcpd",
    "DHCPNAK on 192.0.2.50 to 00:11:22:33:44:55 via eth0"
);
action!(
    RELEASE,
    "dhcp_release",
    ["protocol", "end"],
    None,
    "The client gives its address back.",
    "dhcpd",
    "DHCPRELEASE of 192.0.2.50 from 00:11:22:33:44:55 (laptop) via eth0 (found)"
);
action!(
    DECLINE,
    "dhcp_decline",
    ["protocol"],
    None,
    "The client found the offered address already in use (a conflict, or a squatter).",
    "dhcpd",
    "DHCPDECLINE of 192.0.2.50 from 00:11:22:33:44:55 (laptop) via eth0: abandoned"
);
action!(
    INFORM,
    "dhcp_inform",
    ["protocol"],
    None,
    "A client with an address it configured itself asks for the other options.",
    "dhcpd",
    "DHCPINFORM from 192.0.2.50 via eth0"
);
action!(
    BOOTP,
    "dhcp_bootp",
    ["protocol", "allowed"],
    Some("success"),
    "dnsmasq answered a BOOTP (pre-DHCP) request.",
    "dnsmasq-dhcp",
    "BOOTP(eth0) 192.0.2.60 00:11:22:33:44:66 printer"
);
action!(
    DUPLICATE_UID,
    "dhcp_duplicate_uid",
    ["info"],
    None,
    "Two leases carry the same client identifier (a cloned machine, or a client that changed hardware).",
    "dhcpd",
    "uid lease 192.0.2.51 for client 00:11:22:33:44:55 is duplicate on 192.0.2.0/24"
);
action!(
    DETAIL,
    "dhcp_detail",
    ["info"],
    None,
    "A dnsmasq `log-dhcp` detail of the packet with the same `dhcp.transaction_id` (tags, options, client-provided name).",
    "dnsmasq-dhcp",
    "2417302731 tags: lan, known, eth0"
);
action!(
    V6_SOLICIT,
    "dhcpv6_solicit",
    ["protocol"],
    None,
    "A DHCPv6 client looks for servers.",
    "dhcpd",
    "Solicit message from fe80::211:22ff:fe33:4455 port 546, transaction ID 0x5A3B1C"
);
action!(
    V6_ADVERTISE,
    "dhcpv6_advertise",
    ["protocol"],
    None,
    "A DHCPv6 server offers addresses or prefixes.",
    "dhcpd",
    "Advertise NA: address 2001:db8::5 to client with duid 00:01:00:01:2a:3b:4c:5d:00:11:22:33:44:55 iaid = 1 valid for 7200 seconds"
);
action!(
    V6_REQUEST,
    "dhcpv6_request",
    ["protocol"],
    None,
    "A DHCPv6 client asks for the advertised addresses.",
    "dhcpd",
    "Request message from fe80::211:22ff:fe33:4455 port 546, transaction ID 0x6B4C2D"
);
action!(
    V6_CONFIRM,
    "dhcpv6_confirm",
    ["protocol"],
    None,
    "A DHCPv6 client checks its addresses still fit the link.",
    "dhcpd",
    "Confirm message from fe80::211:22ff:fe33:4455 port 546, transaction ID 0x1A2B3C"
);
action!(
    V6_RENEW,
    "dhcpv6_renew",
    ["protocol"],
    None,
    "A DHCPv6 client renews its lease with the server that gave it.",
    "dhcpd",
    "Renew message from fe80::211:22ff:fe33:4455 port 546, transaction ID 0x2B3C4D"
);
action!(
    V6_REBIND,
    "dhcpv6_rebind",
    ["protocol"],
    None,
    "A DHCPv6 client renews its lease with any server.",
    "dhcpd",
    "Rebind message from fe80::211:22ff:fe33:4455 port 546, transaction ID 0x3C4D5E"
);
action!(
    V6_REPLY,
    "dhcpv6_reply",
    ["protocol"],
    None,
    "A DHCPv6 server answers: with addresses, this grants the lease.",
    "dhcpd",
    "Reply NA: address 2001:db8::5 to client with duid 00:01:00:01:2a:3b:4c:5d:00:11:22:33:44:55 iaid = 1 valid for 7200 seconds"
);
action!(
    V6_RELEASE,
    "dhcpv6_release",
    ["protocol", "end"],
    None,
    "A DHCPv6 client gives its addresses back.",
    "dhcpd",
    "Release message from fe80::211:22ff:fe33:4455 port 546, transaction ID 0x4D5E6F"
);
action!(
    V6_DECLINE,
    "dhcpv6_decline",
    ["protocol"],
    None,
    "A DHCPv6 client found an address already in use.",
    "dhcpd",
    "Decline message from fe80::211:22ff:fe33:4455 port 546, transaction ID 0x5E6F70"
);
action!(
    V6_INFORMATION_REQUEST,
    "dhcpv6_information_request",
    ["protocol"],
    None,
    "A DHCPv6 client asks for options only (stateless DHCPv6).",
    "dhcpd",
    "Information-request message from fe80::211:22ff:fe33:4455 port 546, transaction ID 0x6F7081"
);
action!(
    V6_RELAY_FORWARD,
    "dhcpv6_relay_forward",
    ["protocol"],
    None,
    "A relay forwarded a DHCPv6 client message (`dhcp.relay.ip`, the link and peer addresses).",
    "dhcpd",
    "Relay-forward message from 2001:db8:1::1 port 547, link address 2001:db8:1::1, peer address fe80::211:22ff:fe33:4455"
);
action!(
    V6_RELAY_REPLY,
    "dhcpv6_relay_reply",
    ["protocol"],
    None,
    "The server answered through a relay.",
    "dhcpd",
    "Sending Relay-reply to 2001:db8:1::1 port 547"
);

static ACTIONS: &[Action] = &[
    DISCOVER,
    NO_FREE_LEASES,
    OFFER,
    REQUEST,
    REQUEST_REJECTED,
    ACK,
    NAK,
    RELEASE,
    DECLINE,
    INFORM,
    BOOTP,
    DUPLICATE_UID,
    DETAIL,
    V6_SOLICIT,
    V6_ADVERTISE,
    V6_REQUEST,
    V6_CONFIRM,
    V6_RENEW,
    V6_REBIND,
    V6_REPLY,
    V6_RELEASE,
    V6_DECLINE,
    V6_INFORMATION_REQUEST,
    V6_RELAY_FORWARD,
    V6_RELAY_REPLY,
];

/// Returns every action this module produces.
pub fn actions() -> impl Iterator<Item = &'static Action> {
    ACTIONS.iter()
}

/// The DHCPv6 action of a message type name as ISC writes it (`Solicit`, `Relay-forward`)
/// or as dnsmasq does (`SOLICIT`, `INFORMATION-REQUEST`).
fn v6_action(name: &str) -> Option<&'static Action> {
    let lower = cap(name, 32).to_ascii_lowercase();
    Some(match lower.as_str() {
        "solicit" => &V6_SOLICIT,
        "advertise" => &V6_ADVERTISE,
        "request" => &V6_REQUEST,
        "confirm" => &V6_CONFIRM,
        "renew" => &V6_RENEW,
        "rebind" => &V6_REBIND,
        "reply" => &V6_REPLY,
        "release" => &V6_RELEASE,
        "decline" => &V6_DECLINE,
        "information-request" => &V6_INFORMATION_REQUEST,
        "relay-forward" => &V6_RELAY_FORWARD,
        "relay-reply" => &V6_RELAY_REPLY,
        _ => return None,
    })
}

/// Parses the message of one syslog line from `program` (the APP-NAME/TAG, without pid) and
/// adds the ECS fields it finds to `event`. Returns false, leaving `event` untouched, when the
/// message is not one this module understands.
///
/// # Example
/// ```
/// use palisade_event::Event;
///
/// let mut event = Event::new();
/// let message = "DHCPACK on 192.0.2.50 to 00:11:22:33:44:55 (laptop) via eth0";
/// assert!(palisade_parse::dhcp::parse_program("dhcpd", Some(611), message, &mut event));
/// assert_eq!(event.get_str("event.action").as_deref(), Some("dhcp_ack"));
/// assert_eq!(event.get_str("client.mac").as_deref(), Some("00-11-22-33-44-55"));
/// assert_eq!(event.get_str("client.ip").as_deref(), Some("192.0.2.50"));
/// assert_eq!(event.get_str("client.domain").as_deref(), Some("laptop"));
/// ```
pub fn parse_program(program: &str, pid: Option<u32>, message: &str, event: &mut Event) -> bool {
    let name = program_name(program);
    let message = message.trim_end_matches(['\n', '\r']);
    let fields = if name.eq_ignore_ascii_case("dhcpd") || name.eq_ignore_ascii_case("dhcpd6") {
        isc::parse(message.trim_end())
    } else if name.eq_ignore_ascii_case("dnsmasq-dhcp") || name.eq_ignore_ascii_case("dnsmasq") {
        dnsmasq::parse(message)
    } else {
        None
    };
    let Some(mut fields) = fields else { return false };
    fields.name("process.name", name);
    if let Some(pid) = pid {
        fields.int("process.pid", i64::from(pid));
    }
    fields.apply(event);
    true
}

fn program_name(raw: &str) -> &str {
    let mut name = raw.trim();
    if let Some((head, _)) = name.split_once('[')
        && name.ends_with(']')
    {
        name = head;
    }
    match name.rsplit_once('/') {
        Some((_, base)) => base,
        None => name,
    }
}

/// Sets the categorisation, `event.action` and `network.protocol`.
fn categorize(fields: &mut EcsFields, dataset: &'static str, action: &Action, message_type: &str) {
    fields.categorize(dataset, "event", action.category, action.types, action.outcome);
    fields.name("event.action", action.name);
    fields.name(
        "network.protocol",
        if action.name.starts_with("dhcpv6") { "dhcpv6" } else { "dhcp" },
    );
    fields.name("dhcp.message_type", message_type);
}

/// The octets of a colon-separated hardware address or DUID (`00:11:22:33:44:55`; ISC dhcpd
/// 3 wrote `0:11:2:...` without padding), or `None` when it is not one.
fn hex_octets(text: &str) -> Option<Vec<u8>> {
    if text.is_empty() || text.len() > 3 * 130 {
        return None;
    }
    text.split(':')
        .map(|octet| {
            if octet.is_empty() || octet.len() > 2 {
                return None;
            }
            u8::from_str_radix(octet, 16).ok()
        })
        .collect()
}

/// ECS form of a MAC address: upper case, hyphen separated.
fn ecs_mac(octets: &[u8]) -> String {
    let mut mac = String::with_capacity(octets.len() * 3);
    for (index, octet) in octets.iter().enumerate() {
        if index > 0 {
            mac.push('-');
        }
        mac.push_str(&format!("{octet:02X}"));
    }
    mac
}

/// Lower-case colon form of a DUID or client identifier (as dnsmasq and dhcpd print them,
/// padded).
fn colon_hex(octets: &[u8]) -> String {
    let mut text = String::with_capacity(octets.len() * 3);
    for (index, octet) in octets.iter().enumerate() {
        if index > 0 {
            text.push(':');
        }
        text.push_str(&format!("{octet:02x}"));
    }
    text
}

/// Sets `client.mac` from a 6- or 8-octet hardware address; anything else that is hex goes
/// to `dhcp.client.id` (an InfiniBand address, a dhcpd client identifier). Returns false when
/// the text is not hex octets at all.
fn hardware_address(fields: &mut EcsFields, text: &str) -> bool {
    match hex_octets(text) {
        Some(octets) if octets.len() == 6 || octets.len() == 8 => {
            fields.set("client.mac", Value::from(ecs_mac(&octets)));
            true
        }
        Some(octets) => {
            fields.name("dhcp.client.id", &colon_hex(&octets));
            true
        }
        None => false,
    }
}

/// Sets `dhcp.client.duid` (colon hex, lower case) and, for a DUID-LLT or DUID-LL of an
/// Ethernet address, `client.mac` from the link-layer address it embeds.
fn duid(fields: &mut EcsFields, text: &str) -> bool {
    let Some(octets) = hex_octets(text) else { return false };
    fields.name("dhcp.client.duid", &colon_hex(&octets));
    // RFC 8415 §11.2: DUID-LLT = 00:01, hw type (2), time (4), address; §11.4: DUID-LL =
    // 00:03, hw type (2), address. Hardware type 1 is Ethernet.
    let link_layer = match octets.as_slice() {
        [0, 1, 0, 1, _, _, _, _, mac @ ..] | [0, 3, 0, 1, mac @ ..] if mac.len() == 6 => Some(mac),
        _ => None,
    };
    if let Some(mac) = link_layer {
        fields.set("client.mac", Value::from(ecs_mac(mac)));
    }
    true
}

/// Sets the client's host name, as logged, to `client.domain` (and `related.hosts` when it
/// is a DNS-like name).
fn client_name(fields: &mut EcsFields, name: &str) {
    let name = name.trim();
    if name.is_empty() {
        return;
    }
    fields.name("client.domain", name);
    fields.related_host(cap(name, MAX_NAME_LEN));
}

/// Splits at the first space.
fn word(text: &str) -> (&str, &str) {
    text.split_once(' ').unwrap_or((text, ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_and_duids() {
        assert_eq!(hex_octets("0:c:29:ab:cd:ef"), Some(vec![0, 0x0c, 0x29, 0xab, 0xcd, 0xef]));
        assert_eq!(ecs_mac(&[0, 0x0c, 0x29, 0xab, 0xcd, 0xef]), "00-0C-29-AB-CD-EF");
        assert!(hex_octets("00:11:22:33:44:5g").is_none());
        assert!(hex_octets("001:11").is_none());
        assert!(hex_octets("").is_none());
        let mut fields = EcsFields::new();
        assert!(duid(&mut fields, "00:01:00:01:2a:3b:4c:5d:00:11:22:33:44:55"));
        let event = fields.into_event();
        assert_eq!(event.get_str("client.mac").as_deref(), Some("00-11-22-33-44-55"));
        let mut fields = EcsFields::new();
        assert!(duid(&mut fields, "00:02:00:00:ab:11:aa:bb:cc:dd"));
        assert!(fields.into_event().get("client.mac").is_none());
    }

    #[test]
    fn v6_names() {
        assert_eq!(v6_action("Relay-forward").map(|a| a.name), Some("dhcpv6_relay_forward"));
        assert_eq!(
            v6_action("INFORMATION-REQUEST").map(|a| a.name),
            Some("dhcpv6_information_request")
        );
        assert!(v6_action("DHCPACK").is_none());
    }
}
