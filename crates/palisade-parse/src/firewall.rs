//! Linux kernel firewall logs: lines of the netfilter `LOG` target (iptables, ip6tables, UFW,
//! firewalld) and of the nftables `log` statement, as the kernel writes them to its ring
//! buffer and syslog (`kern.log`, `/var/log/ufw.log`, `journalctl -k`).
//!
//! The input is what follows the syslog header: program `kernel` (or none, when the message
//! has the shape), and a message such as
//! `[ 1234.567890] [UFW BLOCK] IN=eth0 OUT= MAC=... SRC=203.0.113.5 DST=192.0.2.10 LEN=60
//! ... PROTO=TCP SPT=51234 DPT=22 ... SYN URGP=0`. The optional kernel uptime (`[ 1234.5]`)
//! is skipped; the log prefix is whatever comes before `IN=` (iptables `--log-prefix`,
//! nftables `log prefix`, UFW's `[UFW BLOCK] `, none at all); the body is the kernel's
//! `KEY=value` and flag words, in the order `nf_log_syslog.c` writes them: interfaces, MAC
//! header, IPv4 or IPv6 header, then the transport header (TCP, UDP, UDPLITE, ICMP, ICMPv6,
//! AH/ESP or a protocol number), then `UID=`/`GID=` (`--log-uid`) and `MARK=`. The keys that
//! repeat between layers (`LEN`, `ID`, `SEQ`) are read in the layer they follow. The packet
//! an ICMP error quotes (`[SRC=... DST=... ]`) is kept as text, never mistaken for the
//! logged packet. ARP lines (`ARP HTYPE=1 PTYPE=0x0800 OPCODE=1 MACSRC=... IPSRC=...`) are read
//! too.
//!
//! Parsing is one pass over space-separated words, with no regular expression and no panic
//! on any input; every text is capped by [`EcsFields`]. A message without `IN=`...` OUT=`
//! and a packet header is left alone.
//!
//! # Fields
//!
//! `event.dataset` = `iptables.log`, `event.kind` = `event`, `event.category` = `network`,
//! `event.type` = `connection` plus `denied` or `allowed` when the prefix says which,
//! `event.outcome` (`failure` when denied, `success` when allowed), `event.action` (below),
//! `observer.type` = `firewall` (`observer.product` = `ufw` for UFW), `rule.name` (the prefix,
//! trimmed of spaces and a trailing `:`), `observer.ingress.interface.name` (`IN=`),
//! `observer.egress.interface.name` (`OUT=`), `network.direction` (`ingress` with only `IN=`,
//! `egress` with only `OUT=`), `source.mac`/`destination.mac`/`iptables.ether_type` (from
//! `MAC=`, or `MACSRC=`/`MACDST=`/`MACPROTO=`), `source.ip`, `destination.ip`,
//! `source.port`, `destination.port`, `network.type` (`ipv4`, `ipv6`), `network.transport`
//! (`tcp`, `udp`, `udplite`, `icmp`, `ipv6-icmp`, `ah`, `esp`, ...), `network.iana_number`,
//! `network.bytes` (the IP packet length), `user.id`/`group.id` (`UID=`/`GID=`), `related.ip`,
//! and under `iptables.*` (the names of Filebeat's iptables module where it has one):
//! `length`, `tos`, `precedence_bits`, `ttl` (IPv4 TTL or IPv6 hop limit), `id`,
//! `flow_label`, `fragment_flags` (`CE`, `DF`, `MF`), `fragment_offset`, `ip_options`,
//! `tcp.flags` (`CWR ECE URG ACK PSH RST SYN FIN`), `tcp.window`, `tcp.reserved_bits`,
//! `tcp.seq`, `tcp.ack`, `tcp.urgent_pointer`, `tcp.options`, `udp.length`, `icmp.type`,
//! `icmp.code`, `icmp.id`, `icmp.seq`, `icmp.parameter`, `icmp.pointer`, `icmp.redirect`,
//! `icmp.mtu`, `icmp.original` (the quoted packet), `incomplete_bytes`, `spi`, `mark`,
//! `physical_input_device`, `physical_output_device`, `mac` (a `MAC=` that is not Ethernet),
//! `tunnel`, `arp.*`, `kernel_uptime`; any other `KEY=value` as `iptables.<key>`.
//!
//! # Actions
//!
//! | `event.action` | Prefix | `event.type` / `event.outcome` |
//! |---|---|---|
//! | `block` | `[UFW BLOCK]`, `[UFW AUDIT INVALID]`... any UFW prefix whose first word is BLOCK | connection, denied / failure |
//! | `allow` | `[UFW ALLOW]` | connection, allowed / success |
//! | `audit` | `[UFW AUDIT]` | connection / - |
//! | `limit` | `[UFW LIMIT BLOCK]`, `[UFW LIMIT]` (rate limit hit, packet rejected) | connection, denied / failure |
//! | `reject` | any other prefix containing `REJECT` (any case) | connection, denied / failure |
//! | `drop` | any other prefix containing `DROP`, `DENY`, `BLOCK` | connection, denied / failure |
//! | `accept` | any other prefix containing `ACCEPT`, `ALLOW`, `PERMIT`, `PASS` | connection, allowed / success |
//! | `log` | any other prefix, or none | connection / - |

use palisade_event::{Event, Value};

use crate::ecs::{EcsFields, MAX_TEXT_LEN, cap, is_digits, parse_int};

/// The `event.dataset` of every event this module produces.
pub const DATASET: &str = "iptables.log";

/// Most `KEY=value` words this parser keeps per line under `iptables.<key>` when it does not
/// know the key, so a forged line cannot make an event with thousands of fields.
const MAX_UNKNOWN_KEYS: usize = 32;

/// One `event.action` value and the categorisation it implies.
#[derive(Debug)]
pub struct Action {
    /// The `event.action` value.
    pub name: &'static str,
    /// `event.type` values.
    pub types: &'static [&'static str],
    /// `event.outcome`, when the verdict is known.
    pub outcome: Option<&'static str>,
    /// What it means.
    pub description: &'static str,
}

const DENIED: &[&str] = &["connection", "denied"];
const ALLOWED: &[&str] = &["connection", "allowed"];
const LOGGED: &[&str] = &["connection"];

/// Every `event.action` this module produces.
pub const ACTIONS: &[Action] = &[
    Action {
        name: "block",
        types: DENIED,
        outcome: Some("failure"),
        description: "UFW blocked the packet (`[UFW BLOCK]`).",
    },
    Action {
        name: "allow",
        types: ALLOWED,
        outcome: Some("success"),
        description: "UFW allowed the packet and logged it (`[UFW ALLOW]`).",
    },
    Action {
        name: "audit",
        types: LOGGED,
        outcome: None,
        description: "UFW logged the packet for audit (`[UFW AUDIT]`, logging level high).",
    },
    Action {
        name: "limit",
        types: DENIED,
        outcome: Some("failure"),
        description: "UFW's rate limit was hit and the packet rejected (`[UFW LIMIT BLOCK]`).",
    },
    Action {
        name: "reject",
        types: DENIED,
        outcome: Some("failure"),
        description: "A rule whose prefix says REJECT logged the packet.",
    },
    Action {
        name: "drop",
        types: DENIED,
        outcome: Some("failure"),
        description: "A rule whose prefix says DROP, DENY or BLOCK logged the packet.",
    },
    Action {
        name: "accept",
        types: ALLOWED,
        outcome: Some("success"),
        description: "A rule whose prefix says ACCEPT, ALLOW, PERMIT or PASS logged the packet.",
    },
    Action {
        name: "log",
        types: LOGGED,
        outcome: None,
        description: "A LOG rule with another prefix, or none: the verdict is not in the line.",
    },
];

/// Parses the message of one syslog line from `program` (the APP-NAME/TAG, without pid) and
/// adds the ECS fields it finds to `event`. Returns false, leaving `event` untouched, when the
/// message is not one this module understands.
///
/// # Example
/// ```
/// use palisade_event::Event;
///
/// let mut event = Event::new();
/// let message = "[UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 \
///     SRC=203.0.113.5 DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL=49 ID=50145 DF PROTO=TCP \
///     SPT=51234 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0";
/// assert!(palisade_parse::firewall::parse_program("kernel", None, message, &mut event));
/// assert_eq!(event.get_str("event.action").as_deref(), Some("block"));
/// assert_eq!(event.get_str("source.ip").as_deref(), Some("203.0.113.5"));
/// assert_eq!(event.get_str("source.mac").as_deref(), Some("52-54-00-65-43-21"));
/// ```
pub fn parse_program(program: &str, pid: Option<u32>, message: &str, event: &mut Event) -> bool {
    let _ = pid;
    let program = program.trim();
    if !(program.is_empty() || program.eq_ignore_ascii_case("kernel")) {
        return false;
    }
    let Some(fields) = parse_message(message) else { return false };
    fields.apply(event);
    true
}

/// Reads one netfilter log message (with or without the kernel uptime) into ECS fields, or
/// `None` when it does not have the shape.
#[must_use]
pub fn parse_message(message: &str) -> Option<EcsFields> {
    let (uptime, message) = strip_uptime(message);
    let (prefix, in_iface, out_iface, body) = split_head(message)?;
    let mut packet = Packet::default();
    packet.read(body);
    if !packet.recognised {
        return None;
    }
    let mut fields = EcsFields::new();
    let rule = prefix.trim().trim_end_matches(':').trim_end();
    let (action, ufw) = classify(rule);
    fields.categorize(DATASET, "event", &["network"], action.types, action.outcome);
    fields.name("event.action", action.name);
    fields.name("observer.type", "firewall");
    if ufw {
        fields.name("observer.product", "ufw");
    }
    fields.name("rule.name", rule);
    if let Some(uptime) = uptime
        && let Ok(seconds) = uptime.parse::<f64>()
        && seconds.is_finite()
    {
        fields.set("iptables.kernel_uptime", Value::Float(seconds));
    }
    fields.name("observer.ingress.interface.name", in_iface);
    fields.name("observer.egress.interface.name", out_iface);
    match (in_iface.is_empty(), out_iface.is_empty()) {
        (false, true) => fields.name("network.direction", "ingress"),
        (true, false) => fields.name("network.direction", "egress"),
        _ => {}
    }
    packet.write(&mut fields);
    Some(fields)
}

/// Returns the matching action and whether the prefix is UFW's.
fn classify(rule: &str) -> (&'static Action, bool) {
    let by_name = |name: &str| ACTIONS.iter().find(|action| action.name == name);
    let log = &ACTIONS[ACTIONS.len() - 1];
    if let Some(inner) = rule.strip_prefix("[UFW ") {
        let word = inner.split([' ', ']']).next().unwrap_or("");
        let name = match word {
            "BLOCK" => "block",
            "ALLOW" => "allow",
            "AUDIT" => "audit",
            "LIMIT" => "limit",
            _ => "log",
        };
        return (by_name(name).unwrap_or(log), true);
    }
    let upper = rule.to_ascii_uppercase();
    let name = if upper.contains("REJECT") {
        "reject"
    } else if ["DROP", "DENY", "BLOCK"].iter().any(|word| upper.contains(word)) {
        "drop"
    } else if ["ACCEPT", "ALLOW", "PERMIT", "PASS"].iter().any(|word| upper.contains(word)) {
        "accept"
    } else {
        "log"
    };
    (by_name(name).unwrap_or(log), false)
}

/// Splits `[ 1234.567890] rest` into the uptime text and the rest.
fn strip_uptime(message: &str) -> (Option<&str>, &str) {
    let trimmed = message.trim_start();
    if let Some(inner) = trimmed.strip_prefix('[')
        && let Some((uptime, rest)) = inner.split_once(']')
    {
        let uptime = uptime.trim();
        if !uptime.is_empty() && uptime.bytes().all(|byte| byte.is_ascii_digit() || byte == b'.') {
            return (Some(uptime), rest.trim_start());
        }
    }
    (None, trimmed)
}

/// Splits `PREFIXIN=eth0 OUT=eth1 BODY` into prefix, interfaces and body. The kernel writes
/// the prefix immediately before `IN=` with no separator, and interface names hold no space.
fn split_head(message: &str) -> Option<(&str, &str, &str, &str)> {
    let out_at = message.find(" OUT=")?;
    let head = message.get(..out_at)?;
    let token_start = head.rfind(' ').map_or(0, |space| space + 1);
    let token = head.get(token_start..)?;
    let in_at = token.find("IN=")?;
    let prefix = head.get(..token_start + in_at)?;
    let in_iface = token.get(in_at + 3..)?;
    let after_out = message.get(out_at + 5..)?;
    let (out_iface, body) = after_out.split_once(' ').unwrap_or((after_out, ""));
    Some((prefix, in_iface, out_iface, body))
}

/// The header layer a word belongs to.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Layer {
    #[default]
    Link,
    Network,
    Tcp,
    Udp,
    Icmp,
    Other,
}

/// What one line says about its packet.
#[derive(Debug, Default)]
struct Packet<'a> {
    recognised: bool,
    layer: Layer,
    ipv6: Option<bool>,
    arp: bool,
    pairs: Vec<(&'static str, Value)>,
    names: Vec<(&'static str, &'a str)>,
    unknown: Vec<(String, &'a str)>,
    ips: Vec<(&'static str, &'a str)>,
    ports: Vec<(&'static str, &'a str)>,
    fragment_flags: Vec<&'a str>,
    tcp_flags: Vec<&'a str>,
    transport: Option<(String, Option<i64>)>,
    quoted: Option<&'a str>,
    options: Vec<(&'static str, String)>,
}

impl<'a> Packet<'a> {
    fn int(&mut self, field: &'static str, text: &str) {
        if let Some(value) = parse_int(text) {
            self.pairs.push((field, Value::Int(value)));
        }
    }

    fn hex(&mut self, field: &'static str, text: &str) {
        let digits = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")).unwrap_or(text);
        if !digits.is_empty()
            && digits.len() <= 15
            && let Ok(value) = i64::from_str_radix(digits, 16)
        {
            self.pairs.push((field, Value::Int(value)));
        }
    }

    /// Reads the body after `OUT=iface `.
    fn read(&mut self, body: &'a str) {
        let mut words = body.split(' ').filter(|word| !word.is_empty());
        while let Some(word) = words.next() {
            // The packet quoted by an ICMP error: `[SRC=... DST=... ... ]`, kept as text.
            if word.starts_with('[')
                && word.get(1..).is_some_and(|rest| {
                    !rest.is_empty() && !rest.starts_with(|c: char| c.is_ascii_digit())
                })
            {
                let start = offset_in(body, word);
                let mut end = start + word.len();
                let mut depth = word.matches('[').count() as i64 - word.matches(']').count() as i64;
                while depth > 0 {
                    let Some(next) = words.next() else { break };
                    depth += next.matches('[').count() as i64 - next.matches(']').count() as i64;
                    end = offset_in(body, next) + next.len();
                }
                self.quoted = body.get(start..end);
                continue;
            }
            if word == "OPT" || word == "(" {
                // `OPT (0204...)` or, for IPv6 extension headers, `OPT ( FRAG:8 ID:... )`.
                let mut text = String::new();
                let mut rest_word = if word == "(" { Some(word) } else { words.next() };
                while let Some(part) = rest_word {
                    let inner = part.trim_start_matches('(').trim_end_matches(')');
                    if let Some(offset) = inner.strip_prefix("FRAG:") {
                        self.int("iptables.fragment_offset", offset);
                    } else if !inner.is_empty() && text.len() < 512 {
                        if !text.is_empty() {
                            text.push(' ');
                        }
                        text.push_str(inner);
                    }
                    if part.ends_with(')') {
                        break;
                    }
                    rest_word = words.next();
                }
                let field = if self.layer == Layer::Tcp {
                    "iptables.tcp.options"
                } else {
                    "iptables.ip_options"
                };
                if !text.is_empty() {
                    self.options.push((field, text));
                }
                continue;
            }
            if word == "INCOMPLETE" {
                // `INCOMPLETE [65535 bytes]`; the bare word also marks an IPv6 fragment.
                self.names.push(("iptables.incomplete", "true"));
                continue;
            }
            if let Some(count) = word.strip_prefix('[')
                && is_digits(count)
            {
                self.int("iptables.incomplete_bytes", count);
                continue;
            }
            if word == "bytes]" {
                continue;
            }
            if let Some(offset) = word.strip_prefix("FRAG:") {
                self.int("iptables.fragment_offset", offset);
                continue;
            }
            let Some((key, value)) = word.split_once('=') else {
                self.flag(word);
                continue;
            };
            self.pair(key, value);
        }
    }

    fn flag(&mut self, word: &'a str) {
        match (self.layer, word) {
            (Layer::Link | Layer::Network, "CE" | "DF" | "MF") => self.fragment_flags.push(word),
            (Layer::Tcp, "CWR" | "ECE" | "URG" | "ACK" | "PSH" | "RST" | "SYN" | "FIN") => {
                self.tcp_flags.push(word);
            }
            (_, "ARP") => {
                self.recognised = true;
                self.arp = true;
            }
            _ => {}
        }
    }

    fn pair(&mut self, key: &str, value: &'a str) {
        match (key, self.layer) {
            ("MAC", _) => {
                self.recognised = true;
                self.mac(value);
            }
            ("MACSRC", _) => {
                self.recognised = true;
                self.mac_address("source.mac", value);
            }
            ("MACDST", _) => self.mac_address("destination.mac", value),
            ("MACPROTO", _) => self.hex("iptables.ether_type", value),
            ("PHYSIN", _) => self.names.push(("iptables.physical_input_device", value)),
            ("PHYSOUT", _) => self.names.push(("iptables.physical_output_device", value)),
            ("TUNNEL", _) => self.names.push(("iptables.tunnel", value)),
            ("SRC", Layer::Link | Layer::Network) => {
                self.recognised = true;
                self.layer = Layer::Network;
                self.ipv6 = Some(value.contains(':'));
                self.ips.push(("source.ip", value));
            }
            ("DST", Layer::Network) => self.ips.push(("destination.ip", value)),
            ("LEN", Layer::Network) => {
                self.int("iptables.length", value);
                self.int("network.bytes", value);
            }
            ("TOS" | "TC", Layer::Network) => {
                if value.starts_with("0x") {
                    self.hex("iptables.tos", value);
                } else {
                    self.int("iptables.tos", value);
                }
            }
            ("PREC", Layer::Network) => self.hex("iptables.precedence_bits", value),
            ("TTL" | "HOPLIMIT", Layer::Network) => self.int("iptables.ttl", value),
            ("ID", Layer::Network) => self.int("iptables.id", value),
            ("FLOWLBL", Layer::Network) => self.int("iptables.flow_label", value),
            ("PROTO", Layer::Link | Layer::Network) => self.proto(value),
            ("SPT", Layer::Tcp | Layer::Udp) => self.ports.push(("source.port", value)),
            ("DPT", Layer::Tcp | Layer::Udp) => self.ports.push(("destination.port", value)),
            ("SEQ", Layer::Tcp) => self.int("iptables.tcp.seq", value),
            ("ACK", Layer::Tcp) => self.int("iptables.tcp.ack", value),
            ("WINDOW", Layer::Tcp) => self.int("iptables.tcp.window", value),
            ("RES", Layer::Tcp) => self.hex("iptables.tcp.reserved_bits", value),
            ("URGP", Layer::Tcp) => self.int("iptables.tcp.urgent_pointer", value),
            ("LEN", Layer::Udp) => self.int("iptables.udp.length", value),
            ("TYPE", Layer::Icmp) => self.int("iptables.icmp.type", value),
            ("CODE", Layer::Icmp) => self.int("iptables.icmp.code", value),
            ("ID", Layer::Icmp) => self.int("iptables.icmp.id", value),
            ("SEQ", Layer::Icmp) => self.int("iptables.icmp.seq", value),
            ("PARAMETER", Layer::Icmp) => self.int("iptables.icmp.parameter", value),
            ("POINTER", Layer::Icmp) => self.hex("iptables.icmp.pointer", value),
            ("GATEWAY", Layer::Icmp) => self.ips.push(("iptables.icmp.redirect", value)),
            ("MTU", Layer::Icmp) => self.int("iptables.icmp.mtu", value),
            ("SPI", _) => self.hex("iptables.spi", value),
            ("UID", _) => self.names.push(("user.id", value)),
            ("GID", _) => self.names.push(("group.id", value)),
            ("MARK", _) => self.hex("iptables.mark", value),
            ("HTYPE", _) => self.int("iptables.arp.hardware_type", value),
            ("PTYPE", _) => self.hex("iptables.arp.protocol_type", value),
            ("OPCODE", _) => self.int("iptables.arp.opcode", value),
            ("IPSRC", _) => {
                self.recognised = true;
                self.ips.push(("source.ip", value));
            }
            ("IPDST", _) => self.ips.push(("destination.ip", value)),
            _ => {
                let valid = !key.is_empty()
                    && key.len() <= 32
                    && key.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'_');
                if valid && self.unknown.len() < MAX_UNKNOWN_KEYS {
                    self.unknown.push((format!("iptables.{}", key.to_ascii_lowercase()), value));
                }
            }
        }
    }

    fn proto(&mut self, value: &str) {
        self.recognised = true;
        let (name, number, layer) = match value {
            "TCP" => ("tcp", Some(6), Layer::Tcp),
            "UDP" => ("udp", Some(17), Layer::Udp),
            "UDPLITE" => ("udplite", Some(136), Layer::Udp),
            "ICMP" => ("icmp", Some(1), Layer::Icmp),
            "ICMPv6" => ("ipv6-icmp", Some(58), Layer::Icmp),
            "AH" => ("ah", Some(51), Layer::Other),
            "ESP" => ("esp", Some(50), Layer::Other),
            "SCTP" => ("sctp", Some(132), Layer::Other),
            "GRE" => ("gre", Some(47), Layer::Other),
            _ => match parse_int(value) {
                Some(number) if (0..=255).contains(&number) => {
                    (iana_name(number).unwrap_or(""), Some(number), Layer::Other)
                }
                _ => ("", None, Layer::Other),
            },
        };
        self.layer = layer;
        let name = if name.is_empty()
            && number.is_none()
            && value.len() <= 16
            && value.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
        {
            value.to_ascii_lowercase()
        } else {
            name.to_owned()
        };
        if !name.is_empty() || number.is_some() {
            self.transport = Some((name, number));
        }
    }

    /// `MAC=` is the link-layer header in hex: for Ethernet, destination (6 octets), source
    /// (6) and ethertype (2). Other link types (tunnels, loopback without a header) differ.
    fn mac(&mut self, value: &'a str) {
        let octets: Vec<&str> = value.split(':').collect();
        let ethernet = octets.len() == 14
            && octets
                .iter()
                .all(|octet| octet.len() == 2 && octet.bytes().all(|b| b.is_ascii_hexdigit()));
        match (ethernet, octets.get(..6), octets.get(6..12), octets.get(12..14)) {
            (true, Some(destination), Some(source), Some(ether_type)) => {
                self.pairs.push(("destination.mac", Value::from(ecs_mac(destination))));
                self.pairs.push(("source.mac", Value::from(ecs_mac(source))));
                self.hex("iptables.ether_type", &ether_type.concat());
            }
            _ => self.names.push(("iptables.mac", value)),
        }
    }

    fn mac_address(&mut self, field: &'static str, value: &str) {
        let octets: Vec<&str> = value.split(':').collect();
        if octets.len() == 6
            && octets
                .iter()
                .all(|octet| octet.len() == 2 && octet.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            self.pairs.push((field, Value::from(ecs_mac(&octets))));
        }
    }

    fn write(self, fields: &mut EcsFields) {
        match self.ipv6 {
            Some(true) => fields.name("network.type", "ipv6"),
            Some(false) => fields.name("network.type", "ipv4"),
            None if self.arp => fields.name("network.type", "arp"),
            None => {}
        }
        if let Some((name, number)) = &self.transport {
            if !name.is_empty() {
                fields.name("network.transport", name);
            }
            if let Some(number) = number {
                fields.int("network.iana_number", *number);
            }
        }
        for (field, value) in self.ips {
            // The kernel writes IPv6 addresses in full (`2001:0db8:0000:...`); store the
            // short form, which is what analysts search for.
            let short = value.parse::<std::net::IpAddr>().map(|ip| ip.to_string());
            let value = short.as_deref().unwrap_or(value);
            if !fields.ip(field, value) && field.starts_with("iptables.") {
                fields.name(field, value);
            }
        }
        for (field, value) in self.ports {
            fields.port(field, value);
        }
        for (field, value) in self.pairs {
            fields.set(field, value);
        }
        for (field, value) in self.names {
            if field == "iptables.incomplete" {
                fields.flag(field, true);
            } else {
                fields.name(field, value);
            }
        }
        fields.names("iptables.fragment_flags", self.fragment_flags);
        fields.names("iptables.tcp.flags", self.tcp_flags);
        for (field, value) in &self.options {
            fields.name(*field, value);
        }
        if let Some(quoted) = self.quoted {
            fields.text("iptables.icmp.original", cap(quoted, MAX_TEXT_LEN));
        }
        for (field, value) in &self.unknown {
            fields.name(field, value);
        }
    }
}

/// The byte offset of `part` inside `whole` (`part` must be a subslice of it).
fn offset_in(whole: &str, part: &str) -> usize {
    (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize)
}

/// `52:54:00:12:34:56` → `52-54-00-12-34-56` (ECS form: upper case, hyphens).
fn ecs_mac(octets: &[&str]) -> String {
    let mut mac = octets.join("-");
    mac.make_ascii_uppercase();
    mac
}

/// The IANA keyword (lower case) of a protocol number the kernel printed as a number.
fn iana_name(number: i64) -> Option<&'static str> {
    Some(match number {
        1 => "icmp",
        2 => "igmp",
        4 => "ipv4",
        6 => "tcp",
        17 => "udp",
        41 => "ipv6",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "ipv6-icmp",
        89 => "ospf",
        103 => "pim",
        112 => "vrrp",
        132 => "sctp",
        136 => "udplite",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_splits_prefix_without_a_trailing_space() {
        let (prefix, input, output, body) =
            split_head("DROPIN=eth0 OUT= SRC=192.0.2.1").expect("shape");
        assert_eq!((prefix, input, output, body), ("DROP", "eth0", "", "SRC=192.0.2.1"));
        let (prefix, input, ..) = split_head("[UFW BLOCK] IN=eth0 OUT=eth1 X").expect("shape");
        assert_eq!((prefix, input), ("[UFW BLOCK] ", "eth0"));
        let (prefix, input, ..) = split_head("IN= OUT=lo SRC=::1").expect("shape");
        assert_eq!((prefix, input), ("", ""));
        assert!(split_head("no shape here").is_none());
    }

    #[test]
    fn uptime_is_stripped_only_when_numeric() {
        assert_eq!(strip_uptime("[ 12.5] x"), (Some("12.5"), "x"));
        assert_eq!(strip_uptime("[UFW BLOCK] x"), (None, "[UFW BLOCK] x"));
    }

    #[test]
    fn prefixes_give_actions() {
        assert_eq!(classify("[UFW LIMIT BLOCK]").0.name, "limit");
        assert_eq!(classify("[UFW AUDIT INVALID]").0.name, "audit");
        assert_eq!(classify("IPTables-Dropped").0.name, "drop");
        assert_eq!(classify("filter_IN_public_REJECT").0.name, "reject");
        assert_eq!(classify("ACCEPTED").0.name, "accept");
        assert_eq!(classify("").0.name, "log");
    }

    #[test]
    fn icmp_error_quote_does_not_replace_the_packet() {
        let message = "IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 LEN=88 TOS=0x00 PREC=0xC0 TTL=64 ID=1 PROTO=ICMP TYPE=3 CODE=3 [SRC=192.0.2.2 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=2 PROTO=UDP SPT=5353 DPT=53 LEN=40 ] ";
        let event = parse_message(message).expect("parsed").into_event();
        assert_eq!(event.get_str("source.ip").as_deref(), Some("192.0.2.1"));
        assert_eq!(event.get("source.port"), None);
        assert_eq!(event.get("iptables.id"), Some(&Value::Int(1)));
        assert!(event.get_str("iptables.icmp.original").is_some_and(|text| text.ends_with(']')));
    }
}
