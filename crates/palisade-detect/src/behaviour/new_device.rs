//! The `palisade.new_device` detector: a device that gets a DHCP lease with a hardware address
//! the network has never seen before.
//!
//! It keeps an inventory of devices, keyed by MAC address (or, for DHCPv6 clients whose
//! address carries no MAC, by DUID), learnt from the leases the DHCP server grants. For a
//! learning period counted from the first lease it sees, it only learns; afterwards, a lease
//! to a device not in the inventory raises one alert and the device joins the inventory, so
//! each device alerts once. Renewals and address changes of known devices are silent, and a
//! MAC address is the same device however it is written (`aa:bb:..`, `AA-BB-..`,
//! `aabb.ccdd.eeff`). Addresses with the locally administered bit set (phones' private Wi-Fi
//! addresses, most VMs and containers) raise a low-severity alert by default, or none.
//!
//! The inventory is bounded ([`NewDeviceConfig::max_devices`], least recently seen dropped
//! first) and is what [`Behaviour::save`] returns, so it survives restarts. See
//! `docs/detectors/new_device.md`.

use jiff::{SignedDuration, Timestamp};
use palisade_event::Event;
use serde::{Deserialize, Serialize};

use super::util::{self, Map, evict_least_recent, non_negative, text};
use super::{Behaviour, BehaviourMeta};
use crate::{Alert, EventId, Result, Severity};

/// Who the detector is.
const META: BehaviourMeta = BehaviourMeta {
    id: "palisade.new_device",
    title: "New device on the network",
    severity: Severity::Medium,
    attack: &["T1200"],
};

/// The alert group of the one alert raised when more new devices appear within an hour than
/// [`NewDeviceConfig::max_alerts_per_hour`] allows.
const BURST_GROUP: &str = "burst";

/// Version of the saved state, bumped when its shape changes incompatibly.
const STATE_VERSION: u32 = 1;

const SECONDS_PER_HOUR: i64 = 3_600;

/// What to do with a new device whose MAC address is locally administered (bit `0x02` of the
/// first octet): the private, often rotating, addresses of phones and laptops on Wi-Fi, and the
/// addresses of most virtual machines and containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LocalMacPolicy {
    /// Alert at the detector's severity, like any other new device.
    Alert,
    /// Alert at low severity: seen, but not urgent.
    Low,
    /// Neither alert nor remember them (rotating addresses would only fill the inventory).
    Ignore,
}

/// Settings of `[detect.behaviour.new_device]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewDeviceConfig {
    /// How long devices are only learnt, counted from the first lease the detector sees:
    /// without it a fresh install would alert on every device of the network. Days count as
    /// 24 hours (`"7d"`).
    #[serde(deserialize_with = "util::duration::deserialize")]
    pub learning_period: SignedDuration,
    /// `event.action` values that mean "the server gave this client an address". Requests and
    /// discovers are left out: a client asking is not yet on the network, and counting it
    /// would make the lease that follows look known.
    pub lease_actions: Vec<String>,
    /// What to do with locally administered (randomised) MAC addresses: `alert`, `low` or
    /// `ignore`.
    pub local_macs: LocalMacPolicy,
    /// MAC addresses (any notation) or prefixes of one (an OUI such as `52:54:00`) that are
    /// known in advance and never alert: a hypervisor's range, a device registry export.
    pub known_macs: Vec<String>,
    /// Most devices remembered; past it, the least recently seen are forgotten (and would
    /// alert again if they came back).
    pub max_devices: usize,
    /// Most new-device alerts per hour; past it, one "burst" alert is raised and further new
    /// devices in that hour are learnt silently, so a DHCP starvation attack with thousands of
    /// forged addresses is one alert, not thousands. 0 means no limit.
    pub max_alerts_per_hour: u32,
}

impl Default for NewDeviceConfig {
    fn default() -> Self {
        Self {
            learning_period: SignedDuration::from_hours(7 * 24),
            lease_actions: vec!["dhcp_ack".into(), "dhcp_bootp".into(), "dhcpv6_reply".into()],
            local_macs: LocalMacPolicy::Low,
            known_macs: Vec::new(),
            max_devices: 100_000,
            max_alerts_per_hour: 20,
        }
    }
}

/// One device of the inventory.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Device {
    first_seen: Timestamp,
    last_seen: Timestamp,
}

/// The alert budget of the current hour.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Budget {
    /// Start of the current one-hour window, `None` before the first alert.
    window_start: Option<Timestamp>,
    /// New devices counted in the window.
    new_devices: u32,
    /// Whether the burst alert of this window was raised.
    burst_raised: bool,
}

/// Everything the detector learns, as saved.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    version: u32,
    /// Time of the first lease seen: the learning period starts there.
    learning_started: Option<Timestamp>,
    /// Devices by identity (see [`Identity::key`]).
    devices: Map<Device>,
    budget: Budget,
}

impl Default for State {
    fn default() -> Self {
        Self {
            version: STATE_VERSION,
            learning_started: None,
            devices: Map::default(),
            budget: Budget::default(),
        }
    }
}

/// Raises an alert for each device that gets its first lease after the learning period.
#[derive(Debug)]
pub struct NewDevice {
    config: NewDeviceConfig,
    /// `known_macs`, normalised to upper-case hex digits without separators.
    known_prefixes: Vec<String>,
    state: State,
}

impl NewDevice {
    /// A detector with `config` and an empty inventory. Entries of `known_macs` that are not
    /// MAC addresses or prefixes of one are skipped with a warning.
    #[must_use]
    pub fn new(config: NewDeviceConfig) -> Self {
        let known_prefixes = config
            .known_macs
            .iter()
            .filter_map(|entry| {
                let prefix = mac_prefix(entry);
                if prefix.is_none() {
                    tracing::warn!(entry = entry.as_str(), "new_device: known_macs entry skipped");
                }
                prefix
            })
            .collect();
        Self { config, known_prefixes, state: State::default() }
    }

    /// The learning period, a negative one read as none.
    fn learning_period(&self) -> SignedDuration {
        non_negative(self.config.learning_period)
    }

    fn is_lease(&self, event: &Event) -> bool {
        let Some(action) = text(event, "event.action") else { return false };
        self.config.lease_actions.iter().any(|wanted| wanted.eq_ignore_ascii_case(&action))
    }

    fn is_known_in_advance(&self, identity: &Identity) -> bool {
        match identity {
            Identity::Mac(mac) => {
                let hex = mac.hex();
                self.known_prefixes.iter().any(|prefix| hex.starts_with(prefix.as_str()))
            }
            Identity::Duid(_) => false,
        }
    }

    /// Counts one new device against the hourly budget: `Some(false)` to alert on it,
    /// `Some(true)` to raise the burst alert instead, `None` to stay silent.
    fn spend_budget(&mut self, time: Timestamp) -> Option<bool> {
        let limit = self.config.max_alerts_per_hour;
        if limit == 0 {
            return Some(false);
        }
        let budget = &mut self.state.budget;
        let window_over = budget.window_start.is_none_or(|start| {
            time.as_second().saturating_sub(start.as_second()) >= SECONDS_PER_HOUR || time < start
        });
        if window_over {
            *budget = Budget { window_start: Some(time), new_devices: 0, burst_raised: false };
        }
        budget.new_devices = budget.new_devices.saturating_add(1);
        if budget.new_devices <= limit {
            Some(false)
        } else if budget.burst_raised {
            None
        } else {
            budget.burst_raised = true;
            Some(true)
        }
    }

    /// Forgets the least recently seen devices once the inventory is over its cap: an eighth
    /// of the cap at a time, so the sort is paid rarely.
    fn evict(&mut self) {
        evict_least_recent(&mut self.state.devices, self.config.max_devices, |device| {
            device.last_seen
        });
    }
}

impl Behaviour for NewDevice {
    fn meta(&self) -> &BehaviourMeta {
        &META
    }

    fn wants(&self, event: &Event) -> bool {
        (event.get("client.mac").is_some() || event.get("dhcp.client.duid").is_some())
            && self.is_lease(event)
    }

    fn observe(&mut self, event: &Event, id: EventId, time: Timestamp) -> Vec<Alert> {
        if !self.is_lease(event) || refused(event) {
            return Vec::new();
        }
        let Some(identity) = Identity::of(event) else { return Vec::new() };
        let learning_started = *self.state.learning_started.get_or_insert(time);
        let key = identity.key();
        if let Some(device) = self.state.devices.get_mut(&key) {
            device.last_seen = device.last_seen.max(time);
            return Vec::new();
        }
        if self.is_known_in_advance(&identity) {
            return Vec::new();
        }
        let local = identity.is_locally_administered();
        if local && self.config.local_macs == LocalMacPolicy::Ignore {
            return Vec::new();
        }
        self.state.devices.insert(key, Device { first_seen: time, last_seen: time });
        self.evict();

        let learning_ends =
            learning_started.as_second().saturating_add(self.learning_period().as_secs());
        if time.as_second() < learning_ends {
            return Vec::new();
        }
        match self.spend_budget(time) {
            None => Vec::new(),
            Some(true) => {
                let summary = format!(
                    "more than {} new devices got a DHCP lease within an hour (the last one {}); \
                     further new devices this hour are learnt without an alert each",
                    self.config.max_alerts_per_hour,
                    identity.display(),
                );
                let mut alert = META.alert(BURST_GROUP, summary, time, time);
                fill_entities(&mut alert, event);
                alert.add_evidence([id]);
                vec![alert]
            }
            Some(false) => {
                let hostname = text(event, "client.domain");
                let address = text(event, "client.ip").or_else(|| text(event, "dhcp.prefix.value"));
                let interface = text(event, "observer.ingress.interface.name")
                    .or_else(|| text(event, "dhcp.relay.ip"));
                let mut summary = format!("new device {}", identity.display());
                if let Some(hostname) = &hostname {
                    summary.push_str(&format!(" ({hostname})"));
                }
                summary.push_str(" got a DHCP lease");
                if let Some(address) = &address {
                    summary.push_str(&format!(" for {address}"));
                }
                if let Some(interface) = &interface {
                    summary.push_str(&format!(" via {interface}"));
                }
                summary.push_str(&format!(
                    "; not among the {} devices learnt since {learning_started}",
                    self.state.devices.len().saturating_sub(1)
                ));
                if local {
                    summary.push_str(" (locally administered address: likely a randomised one)");
                }
                let mut alert = META.alert(identity.display(), summary, time, time);
                if local && self.config.local_macs == LocalMacPolicy::Low {
                    alert.severity = Severity::Low;
                }
                fill_entities(&mut alert, event);
                alert.add_evidence([id]);
                vec![alert]
            }
        }
    }

    fn save_json(&self) -> Box<serde_json::value::RawValue> {
        crate::state_json(META.id, &self.state)
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<()> {
        let state: State = serde_json::from_value(state)
            .map_err(|source| crate::Error::State { detector: META.id.to_owned(), source })?;
        self.state = state;
        self.evict();
        Ok(())
    }
}

/// True for a lease line that reports a failure (dnsmasq's `DHCPREPLY ... no addresses
/// available`): nothing was granted.
fn refused(event: &Event) -> bool {
    event.get("dhcp.error").is_some()
        || text(event, "event.outcome")
            .is_some_and(|outcome| outcome.eq_ignore_ascii_case("failure"))
}

/// The client's host name (what it sent in its request, `client.domain`) and its address.
/// `host.name` is deliberately not read: on syslog-carried lines it names the DHCP server.
fn fill_entities(alert: &mut Alert, event: &Event) {
    if let Some(hostname) = text(event, "client.domain") {
        alert.entities.hosts.insert(hostname.trim().to_owned());
    }
    if let Some(address) = text(event, "client.ip") {
        alert.entities.ips.insert(address.trim().to_owned());
    }
}

/// What identifies a device.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Identity {
    /// A hardware address, normalised.
    Mac(Mac),
    /// A DHCPv6 DUID (lower-case colon hex, as the parsers write it), when no MAC is known.
    Duid(String),
}

impl Identity {
    fn of(event: &Event) -> Option<Self> {
        if let Some(mac) = text(event, "client.mac").and_then(|mac| Mac::parse(&mac)) {
            return Some(Self::Mac(mac));
        }
        let duid = text(event, "dhcp.client.duid")?;
        let duid = duid.trim().to_ascii_lowercase();
        (duid.len() <= 300).then_some(Self::Duid(duid))
    }

    /// The inventory key.
    fn key(&self) -> String {
        match self {
            Self::Mac(mac) => mac.display(),
            Self::Duid(duid) => format!("duid:{duid}"),
        }
    }

    fn display(&self) -> String {
        match self {
            Self::Mac(mac) => mac.display(),
            Self::Duid(duid) => format!("DUID {duid}"),
        }
    }

    fn is_locally_administered(&self) -> bool {
        match self {
            Self::Mac(mac) => mac.octets.first().is_some_and(|first| first & 0x02 != 0),
            Self::Duid(_) => false,
        }
    }
}

/// A 6- or 8-octet hardware address.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mac {
    octets: Vec<u8>,
}

impl Mac {
    /// Reads the usual notations: `aa:bb:cc:dd:ee:ff`, `AA-BB-CC-DD-EE-FF`, unpadded
    /// `0:c:29:ab:cd:ef`, Cisco's `aabb.ccdd.eeff` and bare `aabbccddeeff`. Refuses the
    /// all-zero and broadcast addresses and group (multicast) addresses, which no DHCP client
    /// has.
    fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let octets = if text.contains([':', '-']) {
            let groups: Vec<&str> = text.split([':', '-']).collect();
            if groups.len() != 6 && groups.len() != 8 {
                return None;
            }
            groups
                .iter()
                .map(|group| {
                    if group.is_empty() || group.len() > 2 {
                        None
                    } else {
                        u8::from_str_radix(group, 16).ok()
                    }
                })
                .collect::<Option<Vec<u8>>>()?
        } else {
            let digits: String = if text.contains('.') {
                let groups: Vec<&str> = text.split('.').collect();
                if groups.iter().any(|group| group.len() != 4) {
                    return None;
                }
                groups.concat()
            } else {
                text.to_owned()
            };
            hex_octets(&digits)?
        };
        if octets.len() != 6 && octets.len() != 8 {
            return None;
        }
        let first = *octets.first()?;
        if first & 0x01 != 0 || octets.iter().all(|octet| *octet == 0) {
            return None;
        }
        Some(Self { octets })
    }

    /// ECS form: upper case, hyphens.
    fn display(&self) -> String {
        self.hex_with(Some('-'))
    }

    /// Upper-case hex digits without separators, for prefix matching.
    fn hex(&self) -> String {
        self.hex_with(None)
    }

    /// The octets as upper-case hex, `separator` between them. Written into one string: this
    /// runs for every lease (the inventory key), and a string per octet, then joined, was
    /// most of what a lease of a known device cost.
    fn hex_with(&self, separator: Option<char>) -> String {
        const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
        let mut text = String::with_capacity(self.octets.len() * 3);
        for (idx, octet) in self.octets.iter().enumerate() {
            if idx > 0
                && let Some(separator) = separator
            {
                text.push(separator);
            }
            text.push(char::from(DIGITS[usize::from(octet >> 4)]));
            text.push(char::from(DIGITS[usize::from(octet & 0x0f)]));
        }
        text
    }
}

/// Octets of an even-length string of hex digits.
fn hex_octets(digits: &str) -> Option<Vec<u8>> {
    if digits.is_empty()
        || !digits.len().is_multiple_of(2)
        || !digits.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return None;
    }
    (0..digits.len())
        .step_by(2)
        .map(|start| {
            digits.get(start..start + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect()
}

/// A `known_macs` entry as upper-case hex digits: a whole address or a prefix of whole octets
/// (at least three, an OUI), in any of the notations [`Mac::parse`] reads.
fn mac_prefix(entry: &str) -> Option<String> {
    let entry = entry.trim();
    let octets = if entry.contains([':', '-']) {
        entry
            .split([':', '-'])
            .map(|group| {
                if group.is_empty() || group.len() > 2 {
                    None
                } else {
                    u8::from_str_radix(group, 16).ok()
                }
            })
            .collect::<Option<Vec<u8>>>()?
    } else {
        hex_octets(&entry.replace('.', ""))?
    };
    if octets.len() < 3 || octets.len() > 8 {
        return None;
    }
    Some(octets.iter().map(|octet| format!("{octet:02X}")).collect())
}

#[cfg(test)]
mod tests {
    use palisade_event::{Str, Value};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    const HOUR: i64 = 3_600;
    const DAY: i64 = 86_400;
    /// 2025-03-03T00:00:00Z.
    const START: i64 = 1_740_960_000;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).expect("valid time")
    }

    fn lease(action: &str, mac: &str, ip: &str, hostname: Option<&str>) -> Event {
        let mut fields: Vec<(Str, Value)> = vec![
            ("event.action".into(), Value::from(action)),
            ("event.category".into(), Value::List(vec![Value::from("network")])),
            ("network.protocol".into(), Value::from("dhcp")),
            ("client.mac".into(), Value::from(mac)),
            ("client.ip".into(), Value::from(ip)),
            // The DHCP server, as the syslog header names it: never the client.
            ("host.name".into(), Value::from("gw")),
            ("observer.ingress.interface.name".into(), Value::from("eth0")),
        ];
        if let Some(hostname) = hostname {
            fields.push(("client.domain".into(), Value::from(hostname)));
        }
        Event::from_fields(fields)
    }

    /// The same MAC in one of the notations DHCP servers and exports use.
    fn notation(octets: &[u8; 6], style: usize) -> String {
        let hex: Vec<String> = octets.iter().map(|octet| format!("{octet:02x}")).collect();
        match style % 4 {
            0 => hex.join(":"),
            1 => hex.join("-").to_uppercase(),
            2 => format!("{}{}.{}{}.{}{}", hex[0], hex[1], hex[2], hex[3], hex[4], hex[5]),
            // dhcpd 3's unpadded octets.
            _ => octets.iter().map(|octet| format!("{octet:x}")).collect::<Vec<_>>().join(":"),
        }
    }

    fn random_mac(rng: &mut StdRng, local: bool) -> [u8; 6] {
        let mut octets: [u8; 6] = rng.random();
        // Unicast; locally administered or not as asked.
        octets[0] &= !0x01;
        if local {
            octets[0] |= 0x02;
        } else {
            octets[0] &= !0x02;
        }
        octets
    }

    struct Feed {
        detector: NewDevice,
        next_id: EventId,
        alerts: Vec<Alert>,
    }

    impl Feed {
        fn new(config: NewDeviceConfig) -> Self {
            Self { detector: NewDevice::new(config), next_id: 1, alerts: Vec::new() }
        }

        fn send(&mut self, event: &Event, time: i64) -> EventId {
            let id = self.next_id;
            self.next_id += 1;
            if self.detector.wants(event) {
                self.alerts.extend(self.detector.observe(event, id, at(time)));
            }
            id
        }
    }

    #[test]
    fn mac_notations_are_one_device() {
        let forms = [
            "00:0c:29:ab:cd:ef",
            "00-0C-29-AB-CD-EF",
            "000c.29ab.cdef",
            "0:c:29:ab:cd:ef",
            "000C29ABCDEF",
            " 00:0C:29:ab:CD:ef ",
        ];
        for form in forms {
            assert_eq!(
                Mac::parse(form).map(|mac| mac.display()).as_deref(),
                Some("00-0C-29-AB-CD-EF"),
                "{form}"
            );
        }
        for bad in [
            "",
            "00:0c:29:ab:cd",
            "00:0c:29:ab:cd:zz",
            "000:c:29:ab:cd:ef",
            "00:00:00:00:00:00",
            "ff:ff:ff:ff:ff:ff",
            "01:00:5e:00:00:01",
            "0c29.abcd",
            "garbage",
        ] {
            assert!(Mac::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(mac_prefix("52:54:00").as_deref(), Some("525400"));
        assert_eq!(mac_prefix("5254.00ab.cdef").as_deref(), Some("525400ABCDEF"));
        assert_eq!(mac_prefix("52:54"), None);
    }

    /// Ten days of a small office: forty devices renewing at random times, some changing
    /// address, their MACs logged in four notations, phones with private (locally administered)
    /// addresses among them; discovers and requests from strangers that never get a lease.
    /// After the week of learning, a rogue box plugged in on day 8 and a phone with a new
    /// private address on day 9.
    #[test]
    fn scenario_fires_on_the_new_device_only() {
        let mut rng = StdRng::seed_from_u64(0x5EED_DE71);
        let mut feed = Feed::new(NewDeviceConfig::default());
        let devices: Vec<([u8; 6], String)> =
            (0..40).map(|n| (random_mac(&mut rng, n % 5 == 0), format!("host-{n:02}"))).collect();
        let mut schedule: Vec<(i64, usize)> = Vec::new();
        for (index, _) in devices.iter().enumerate() {
            let mut time = START + rng.random_range(0..HOUR);
            while time < START + 10 * DAY {
                schedule.push((time, index));
                time += rng.random_range(2 * HOUR..14 * HOUR);
            }
        }
        let rogue = [0x00, 0x1b, 0x21, 0x3a, 0x4b, 0x5c];
        let rogue_time = START + 8 * DAY + 3 * HOUR + 17;
        let phone = random_mac(&mut rng, true);
        let phone_time = START + 9 * DAY + 11 * HOUR;
        schedule.sort_unstable();

        let mut rogue_id = None;
        let mut phone_id = None;
        for (time, index) in schedule {
            if rogue_id.is_none() && time > rogue_time {
                // A discover and a request come first; neither may count.
                feed.send(&lease("dhcp_discover", &notation(&rogue, 0), "", None), rogue_time - 2);
                feed.send(
                    &lease("dhcp_request", &notation(&rogue, 0), "10.0.0.200", None),
                    rogue_time - 1,
                );
                rogue_id = Some(feed.send(
                    &lease("dhcp_ack", &notation(&rogue, 0), "10.0.0.200", Some("kali")),
                    rogue_time,
                ));
                // Its renewal an hour later, in another notation, is the same device.
                feed.send(
                    &lease("dhcp_ack", &notation(&rogue, 1), "10.0.0.200", Some("kali")),
                    rogue_time + HOUR,
                );
            }
            if phone_id.is_none() && time > phone_time {
                phone_id = Some(feed.send(
                    &lease("dhcp_ack", &notation(&phone, 0), "10.0.0.201", Some("iPhone")),
                    phone_time,
                ));
            }
            let (mac, hostname) = &devices[index];
            let address = format!("10.0.0.{}", 10 + index + 50 * rng.random_range(0..2));
            let style = rng.random_range(0..4);
            let action = if rng.random_bool(0.1) { "dhcp_bootp" } else { "dhcp_ack" };
            feed.send(&lease("dhcp_request", &notation(mac, style), &address, None), time - 1);
            feed.send(&lease(action, &notation(mac, style), &address, Some(hostname)), time);
            // Strangers probing during learning and after: never leased, never alert.
            if rng.random_bool(0.02) {
                let stranger = random_mac(&mut rng, false);
                feed.send(&lease("dhcp_discover", &notation(&stranger, 0), "", None), time);
            }
        }

        let rogue_id = rogue_id.expect("the rogue device was scheduled");
        let phone_id = phone_id.expect("the phone was scheduled");
        assert_eq!(feed.alerts.len(), 2, "{:#?}", feed.alerts);
        let rogue_alert = &feed.alerts[0];
        assert_eq!(rogue_alert.rule_id, "palisade.new_device");
        assert_eq!(rogue_alert.group, "00-1B-21-3A-4B-5C");
        assert_eq!(rogue_alert.severity, Severity::Medium);
        assert_eq!(rogue_alert.evidence, vec![rogue_id]);
        assert_eq!(rogue_alert.first_seen, at(rogue_time));
        assert!(rogue_alert.entities.hosts.contains("kali"));
        assert!(!rogue_alert.entities.hosts.contains("gw"), "the DHCP server is not the client");
        assert!(rogue_alert.entities.ips.contains("10.0.0.200"));
        assert_eq!(rogue_alert.attack, vec!["T1200".to_owned()]);

        let phone_alert = &feed.alerts[1];
        assert_eq!(phone_alert.group, Mac { octets: phone.to_vec() }.display());
        assert_eq!(phone_alert.severity, Severity::Low);
        assert_eq!(phone_alert.evidence, vec![phone_id]);
    }

    #[test]
    fn learning_period_is_silent_and_counted_from_the_first_lease() {
        let mut feed = Feed::new(NewDeviceConfig {
            learning_period: SignedDuration::from_hours(2 * 24),
            ..Default::default()
        });
        feed.send(&lease("dhcp_ack", "00:11:22:33:44:01", "10.0.0.1", None), START);
        feed.send(&lease("dhcp_ack", "00:11:22:33:44:02", "10.0.0.2", None), START + 2 * DAY - 1);
        assert!(feed.alerts.is_empty());
        feed.send(&lease("dhcp_ack", "00:11:22:33:44:03", "10.0.0.3", None), START + 2 * DAY);
        assert_eq!(feed.alerts.len(), 1);
        assert_eq!(feed.alerts[0].group, "00-11-22-33-44-03");
    }

    #[test]
    fn local_macs_can_be_ignored_and_known_prefixes_never_alert() {
        let mut feed = Feed::new(NewDeviceConfig {
            learning_period: SignedDuration::ZERO,
            local_macs: LocalMacPolicy::Ignore,
            known_macs: vec!["52-54-00".into(), "0011.2233.4455".into(), "bogus".into()],
            ..Default::default()
        });
        feed.send(&lease("dhcp_ack", "da:a1:19:00:00:01", "10.0.0.1", None), START);
        feed.send(&lease("dhcp_ack", "00:11:22:33:44:55", "10.0.0.2", None), START);
        // 52:54:00 is QEMU's range: locally administered, but listed, so known either way.
        feed.send(&lease("dhcp_ack", "52:54:00:12:34:56", "10.0.0.3", None), START);
        assert!(feed.alerts.is_empty(), "{:#?}", feed.alerts);
        feed.send(&lease("dhcp_ack", "00:11:22:33:44:56", "10.0.0.4", None), START);
        assert_eq!(feed.alerts.len(), 1);

        let mut alerting = Feed::new(NewDeviceConfig {
            learning_period: SignedDuration::ZERO,
            local_macs: LocalMacPolicy::Alert,
            ..Default::default()
        });
        alerting.send(&lease("dhcp_ack", "da:a1:19:00:00:01", "10.0.0.1", None), START);
        assert_eq!(alerting.alerts.len(), 1);
        assert_eq!(alerting.alerts[0].severity, Severity::Medium);
    }

    #[test]
    fn a_flood_of_forged_macs_is_one_burst_alert_per_hour() {
        let mut feed = Feed::new(NewDeviceConfig {
            learning_period: SignedDuration::ZERO,
            max_alerts_per_hour: 5,
            ..Default::default()
        });
        for n in 0..500_i64 {
            let mac = format!("00:16:3e:00:{:02x}:{:02x}", n / 256, n % 256);
            feed.send(&lease("dhcp_ack", &mac, "10.0.0.9", None), START + n);
        }
        assert_eq!(feed.alerts.len(), 6);
        assert_eq!(feed.alerts[5].group, BURST_GROUP);
        // The next hour has a fresh budget.
        feed.send(&lease("dhcp_ack", "00:16:3e:ff:00:01", "10.0.0.9", None), START + HOUR + 1);
        assert_eq!(feed.alerts.len(), 7);
        assert_eq!(feed.alerts[6].group, "00-16-3E-FF-00-01");
    }

    #[test]
    fn failed_replies_and_duid_only_clients() {
        let mut feed = Feed::new(NewDeviceConfig {
            learning_period: SignedDuration::ZERO,
            ..Default::default()
        });
        let refused = Event::from_fields(vec![
            ("event.action".into(), Value::from("dhcpv6_reply")),
            ("dhcp.client.duid".into(), Value::from("00:02:00:00:ab:11:aa:bb:cc:dd:ee:ff")),
            ("dhcp.error".into(), Value::from("no addresses available")),
        ]);
        feed.send(&refused, START);
        assert!(feed.alerts.is_empty());
        let granted = Event::from_fields(vec![
            ("event.action".into(), Value::from("dhcpv6_reply")),
            ("dhcp.client.duid".into(), Value::from("00:02:00:00:AB:11:AA:BB:CC:DD:EE:FF")),
            ("client.ip".into(), Value::from("2001:db8::5")),
        ]);
        feed.send(&granted, START + 1);
        feed.send(&granted, START + 2);
        assert_eq!(feed.alerts.len(), 1);
        assert_eq!(feed.alerts[0].group, "DUID 00:02:00:00:ab:11:aa:bb:cc:dd:ee:ff");
    }

    #[test]
    fn inventory_is_bounded() {
        let mut feed = Feed::new(NewDeviceConfig {
            learning_period: SignedDuration::from_hours(365 * 24),
            max_devices: 64,
            ..Default::default()
        });
        for n in 0..1_000_i64 {
            let mac = format!("00:16:3e:00:{:02x}:{:02x}", n / 256, n % 256);
            feed.send(&lease("dhcp_ack", &mac, "10.0.0.9", None), START + n);
        }
        assert!(feed.detector.state.devices.len() <= 64);
        // The newest are the ones kept.
        assert!(feed.detector.state.devices.contains_key("00-16-3E-00-03-E7"));
    }

    #[test]
    fn save_and_restore_keep_the_inventory_and_the_learning_period() {
        let mut feed = Feed::new(NewDeviceConfig::default());
        for n in 0..10 {
            let mac = format!("00:11:22:33:44:{n:02x}");
            feed.send(&lease("dhcp_ack", &mac, "10.0.0.9", None), START + n * HOUR);
        }
        let saved = feed.detector.save();
        let text = serde_json::to_string(&saved).expect("state serialises");

        let mut restored = Feed::new(NewDeviceConfig::default());
        restored
            .detector
            .restore(serde_json::from_str(&text).expect("state parses"))
            .expect("state restores");
        let later = START + 8 * DAY;
        // Known before the restart, in another notation: silent.
        restored.send(&lease("dhcp_ack", "0011.2233.4405", "10.0.0.99", None), later);
        assert!(restored.alerts.is_empty(), "{:#?}", restored.alerts);
        // New, and the learning period (which began before the restart) is over: alerts.
        restored.send(&lease("dhcp_ack", "00:11:22:33:44:aa", "10.0.0.98", None), later);
        assert_eq!(restored.alerts.len(), 1);

        let error = NewDevice::new(NewDeviceConfig::default())
            .restore(serde_json::json!({"devices": 3}))
            .expect_err("bad state is refused");
        assert!(matches!(error, crate::Error::State { .. }));
    }

    #[test]
    fn odd_input_does_not_panic() {
        let mut feed = Feed::new(NewDeviceConfig {
            learning_period: SignedDuration::ZERO,
            ..Default::default()
        });
        for mac in ["", "-", "::::::", "zz", "0:0:0:0:0:0:0:0:0", "ä:b:c:d:e:f", "a.b.c"] {
            feed.send(&lease("dhcp_ack", mac, "not an ip", None), START);
        }
        let list = Event::from_fields(vec![
            ("event.action".into(), Value::List(vec![Value::from("dhcp_ack")])),
            ("client.mac".into(), Value::Int(42)),
        ]);
        feed.send(&list, START);
        assert!(feed.alerts.is_empty());
    }
}
