//! The `palisade.beaconing` detector: an internal host that contacts one external destination
//! at near-constant intervals, the way command-and-control implants check in.
//!
//! For each (source address, destination) pair it keeps the times of the last contacts
//! (bounded), the destination being the domain name when one is known for the connection and
//! the address otherwise. Once enough intervals are known, it measures how regular they are
//! with the median absolute deviation (robust to a missed or delayed check-in) and fires when
//! the spread is small, the period is in a plausible range for an implant, and the destination
//! is not a shared service most hosts talk to. NTP (`123/udp`) and configured destinations are
//! left out. See `docs/detectors/beaconing.md`.
//!
//! State (pairs, the domain learnt for each connection, the hosts seen per destination) is
//! capped, dropping the least recently seen, and is what [`Behaviour::save`] returns.

use std::collections::VecDeque;
use std::net::IpAddr;

use jiff::{SignedDuration, Timestamp};
use palisade_event::Event;
use serde::{Deserialize, Serialize};

use super::util::{
    self, Map, Network, evict_least_recent, has, ip, is_internal, non_negative, number, text,
};
use super::{Behaviour, BehaviourMeta};
use crate::{Alert, EventId, Result, Severity};

/// Who the detector is.
const META: BehaviourMeta = BehaviourMeta {
    id: "palisade.beaconing",
    title: "Beaconing to an external destination",
    severity: Severity::Medium,
    attack: &["T1071", "T1573"],
};

/// Version of the saved state, bumped when its shape changes incompatibly.
const STATE_VERSION: u32 = 1;

/// Fields that name the server a connection went to, most specific first. Only TLS and HTTP
/// records carry them, so they teach the domain of a connection rather than time it.
const DOMAIN_FIELDS: &[&str] = &["destination.domain", "tls.client.server_name", "url.domain"];

/// Settings of `[detect.behaviour.beaconing]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BeaconingConfig {
    /// Contact times kept per pair, the newest ones; regularity is judged over their intervals.
    pub history: usize,
    /// Intervals needed before a pair is judged: fewer cannot tell an implant from chance.
    pub min_intervals: usize,
    /// Largest median absolute deviation of the intervals, as a fraction of their median, that
    /// still counts as regular. Uniform jitter of ±j gives about j/2, so 0.15 catches implants
    /// with up to about 30 % jitter, while human browsing sits around 0.5 to 1.
    pub max_dispersion: f64,
    /// Shortest median interval that counts: faster is streaming or polling by an open
    /// application, not a check-in.
    #[serde(deserialize_with = "util::duration::deserialize")]
    pub min_period: SignedDuration,
    /// Longest median interval that counts.
    #[serde(deserialize_with = "util::duration::deserialize")]
    pub max_period: SignedDuration,
    /// Connections to the same destination closer than this to the last recorded contact are
    /// the same contact (a browser's parallel connections, an implant's burst).
    #[serde(deserialize_with = "util::duration::deserialize")]
    pub merge: SignedDuration,
    /// After an alert, the same pair does not alert again until this much event time has
    /// passed.
    #[serde(deserialize_with = "util::duration::deserialize")]
    pub cooldown: SignedDuration,
    /// Destination ports never considered, as `PORT` or `PORT/TRANSPORT` (`123/udp`: NTP
    /// clients are as regular as any implant). A `PORT/TRANSPORT` entry also matches events
    /// that do not say their transport.
    pub allowed_ports: Vec<String>,
    /// Destinations never considered: IP addresses, CIDR networks, or domain names (which also
    /// cover their subdomains). For time servers reached on other ports, update and telemetry
    /// services, monitoring SaaS.
    pub allowed_destinations: Vec<String>,
    /// Only consider sources in internal networks (private, loopback, link-local, unique-local,
    /// shared address space, and `internal_networks`).
    pub internal_sources_only: bool,
    /// Only consider destinations outside the internal networks: internal services (domain
    /// controllers, monitoring, backups) are regular by design.
    pub external_destinations_only: bool,
    /// More networks (CIDR) to count as internal, such as public ranges an organisation uses
    /// inside.
    pub internal_networks: Vec<String>,
    /// A destination that this many distinct internal hosts contact is taken for a shared
    /// service (an agent's SaaS, an update server) and not alerted on. 0 disables the check.
    pub max_sources_per_destination: usize,
    /// Most pairs tracked (and most destinations counted, and most connection-to-domain
    /// links kept); past it, the least recently seen are dropped.
    pub max_pairs: usize,
}

impl Default for BeaconingConfig {
    fn default() -> Self {
        Self {
            history: 48,
            min_intervals: 12,
            max_dispersion: 0.15,
            min_period: SignedDuration::from_secs(10),
            max_period: SignedDuration::from_hours(6),
            merge: SignedDuration::from_secs(2),
            cooldown: SignedDuration::from_hours(24),
            allowed_ports: vec!["123/udp".into()],
            allowed_destinations: vec![
                "pool.ntp.org".into(),
                "time.windows.com".into(),
                "time.apple.com".into(),
                "time.google.com".into(),
                "time.cloudflare.com".into(),
            ],
            internal_sources_only: true,
            external_destinations_only: true,
            internal_networks: Vec::new(),
            max_sources_per_destination: 10,
            max_pairs: 50_000,
        }
    }
}

/// One pair's contacts.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pair {
    /// Contact times in milliseconds since the epoch, oldest first, at most `history`.
    times: VecDeque<i64>,
    /// The event id of each contact, in step with `times`.
    ids: VecDeque<EventId>,
    /// Destination addresses seen for the pair (a domain can move between addresses), capped.
    addresses: Vec<String>,
    /// Destination port of the last contact, for the summary.
    port: Option<u16>,
    /// Time of the last event, for eviction.
    last_seen: i64,
    /// Time of the last alert on this pair.
    last_alert: Option<i64>,
}

/// The internal hosts seen contacting one destination, for the shared-service check.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Destination {
    /// Distinct sources, at most `max_sources_per_destination`.
    sources: Vec<String>,
    last_seen: i64,
}

/// The domain learnt for one (source, destination address) connection.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Link {
    domain: String,
    last_seen: i64,
}

/// Everything the detector learns, as saved.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    version: u32,
    /// Pairs by `"SOURCE -> DESTINATION"`, which is also the alert group.
    pairs: Map<Pair>,
    /// Destinations by name (domain or address).
    destinations: Map<Destination>,
    /// Domains by `"SOURCE DESTINATION_ADDRESS"`.
    links: Map<Link>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            version: STATE_VERSION,
            pairs: Map::default(),
            destinations: Map::default(),
            links: Map::default(),
        }
    }
}

/// An `allowed_ports` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PortRule {
    port: u16,
    /// Lower-case transport (`udp`), or any when `None`.
    transport: Option<String>,
}

/// Raises an alert when one internal host contacts one destination at regular intervals.
#[derive(Debug)]
pub struct Beaconing {
    config: BeaconingConfig,
    ports: Vec<PortRule>,
    allowed_networks: Vec<Network>,
    /// Allowed domains, lower case, without a trailing dot.
    allowed_domains: Vec<String>,
    internal_networks: Vec<Network>,
    state: State,
}

impl Beaconing {
    /// A detector with `config` and nothing learnt. Settings entries that do not read (a port
    /// that is not one, a malformed network) are skipped with a warning.
    #[must_use]
    pub fn new(config: BeaconingConfig) -> Self {
        let ports = config
            .allowed_ports
            .iter()
            .filter_map(|entry| {
                let rule = parse_port_rule(entry);
                if rule.is_none() {
                    tracing::warn!(
                        entry = entry.as_str(),
                        "beaconing: allowed_ports entry skipped"
                    );
                }
                rule
            })
            .collect();
        let mut allowed_networks = Vec::new();
        let mut allowed_domains = Vec::new();
        for entry in &config.allowed_destinations {
            let entry = entry.trim();
            if let Some(network) = Network::parse(entry) {
                allowed_networks.push(network);
            } else if !entry.is_empty() && !entry.contains('/') {
                allowed_domains.push(normalise_domain(entry));
            } else {
                tracing::warn!(entry, "beaconing: allowed_destinations entry skipped");
            }
        }
        let internal_networks = config
            .internal_networks
            .iter()
            .filter_map(|entry| {
                let network = Network::parse(entry);
                if network.is_none() {
                    tracing::warn!(
                        entry = entry.as_str(),
                        "beaconing: internal_networks entry skipped"
                    );
                }
                network
            })
            .collect();
        Self {
            config,
            ports,
            allowed_networks,
            allowed_domains,
            internal_networks,
            state: State::default(),
        }
    }

    fn is_internal(&self, address: IpAddr) -> bool {
        is_internal(address)
            || self.internal_networks.iter().any(|network| network.contains(address))
    }

    fn port_allowed(&self, event: &Event) -> bool {
        let Some(port) = number(event, "destination.port") else { return false };
        let transport = text(event, "network.transport");
        self.ports.iter().any(|rule| {
            f64::from(rule.port) == port
                && match (&rule.transport, &transport) {
                    (Some(wanted), Some(actual)) => wanted.eq_ignore_ascii_case(actual),
                    _ => true,
                }
        })
    }

    fn destination_allowed(&self, address: Option<IpAddr>, domain: Option<&str>) -> bool {
        address.is_some_and(|address| {
            self.allowed_networks.iter().any(|network| network.contains(address))
        }) || domain.is_some_and(|domain| {
            self.allowed_domains.iter().any(|allowed| {
                domain == allowed
                    || domain.strip_suffix(allowed.as_str()).is_some_and(|head| head.ends_with('.'))
            })
        })
    }

    /// Remembers which domain a (source, destination address) connection is for, from a TLS
    /// or HTTP record, so that the plain connection records of the same flows are counted
    /// under the domain: one pair per server even when it moves between addresses.
    fn learn_link(&mut self, source: &str, address: &str, domain: &str, now: i64) {
        let key = format!("{source} {address}");
        match self.state.links.get_mut(&key) {
            Some(link) => {
                if link.domain != domain {
                    domain.clone_into(&mut link.domain);
                }
                link.last_seen = now;
            }
            None => {
                self.state.links.insert(key, Link { domain: domain.to_owned(), last_seen: now });
                let max = self.config.max_pairs;
                evict_least_recent(&mut self.state.links, max, |link| link.last_seen);
            }
        }
    }

    /// Counts `source` among the hosts contacting `destination`; returns how many there are
    /// (capped at the configured threshold).
    fn prevalence(&mut self, destination: &str, source: &str, now: i64) -> usize {
        let cap = self.config.max_sources_per_destination;
        if cap == 0 {
            return 0;
        }
        if !self.state.destinations.contains_key(destination) {
            self.state.destinations.insert(destination.to_owned(), Destination::default());
            let max = self.config.max_pairs;
            evict_least_recent(&mut self.state.destinations, max, |entry| entry.last_seen);
        }
        let Some(entry) = self.state.destinations.get_mut(destination) else { return 0 };
        entry.last_seen = now;
        if entry.sources.len() < cap && !entry.sources.iter().any(|known| known == source) {
            entry.sources.push(source.to_owned());
        }
        entry.sources.len()
    }
}

impl Behaviour for Beaconing {
    fn meta(&self) -> &BehaviourMeta {
        &META
    }

    fn wants(&self, event: &Event) -> bool {
        event.get("source.ip").is_some()
            && event.get("destination.ip").is_some()
            && (has(event, "event.type", "connection")
                || DOMAIN_FIELDS.iter().any(|field| event.get(field).is_some()))
    }

    fn observe(&mut self, event: &Event, id: EventId, time: Timestamp) -> Vec<Alert> {
        let Some(source) = ip(event, "source.ip") else { return Vec::new() };
        let Some(address) = ip(event, "destination.ip") else { return Vec::new() };
        let now = time.as_millisecond();
        if self.config.internal_sources_only && !self.is_internal(source) {
            return Vec::new();
        }
        if self.config.external_destinations_only && self.is_internal(address) {
            return Vec::new();
        }
        let source_text = source.to_string();
        let address_text = address.to_string();
        let named = DOMAIN_FIELDS
            .iter()
            .find_map(|field| text(event, field))
            .map(|domain| normalise_domain(&domain))
            .filter(|domain| !domain.is_empty() && domain.len() <= 253);
        if let Some(domain) = &named {
            self.learn_link(&source_text, &address_text, domain, now);
        }
        // Only connection records time the pair: a TLS or HTTP record is a second view of a
        // connection already counted, at a slightly different time.
        if !has(event, "event.type", "connection") || self.port_allowed(event) {
            return Vec::new();
        }
        let domain = named.or_else(|| {
            self.state
                .links
                .get(&format!("{source_text} {address_text}"))
                .map(|link| link.domain.clone())
        });
        if self.destination_allowed(Some(address), domain.as_deref()) {
            return Vec::new();
        }
        let destination = domain.clone().unwrap_or_else(|| address_text.clone());
        let sources = self.prevalence(&destination, &source_text, now);
        let key = format!("{source_text} -> {destination}");
        let port = number(event, "destination.port")
            .filter(|port| port.is_finite() && (0.0..=65_535.0).contains(port))
            .map(|port| port as u16);

        let history = self.config.history.max(3);
        let merge_ms = non_negative(self.config.merge).as_secs_f64() * 1_000.0;
        if !self.state.pairs.contains_key(&key) {
            self.state.pairs.insert(
                key.clone(),
                Pair {
                    times: VecDeque::new(),
                    ids: VecDeque::new(),
                    addresses: Vec::new(),
                    port,
                    last_seen: now,
                    last_alert: None,
                },
            );
            let max = self.config.max_pairs;
            evict_least_recent(&mut self.state.pairs, max, |pair| pair.last_seen);
        }
        let Some(pair) = self.state.pairs.get_mut(&key) else { return Vec::new() };
        pair.last_seen = pair.last_seen.max(now);
        let contact = contact_time(event, now);
        pair.port = port.or(pair.port);
        if pair.addresses.len() < 8 && !pair.addresses.contains(&address_text) {
            pair.addresses.push(address_text);
        }
        if !record_contact(pair, contact, id, merge_ms, history) {
            return Vec::new();
        }

        let cooldown_ms =
            i64::try_from(non_negative(self.config.cooldown).as_millis()).unwrap_or(i64::MAX);
        if pair.last_alert.is_some_and(|last| now.saturating_sub(last) < cooldown_ms) {
            return Vec::new();
        }
        if self.config.max_sources_per_destination > 0
            && sources >= self.config.max_sources_per_destination
        {
            return Vec::new();
        }
        let intervals: Vec<f64> = pair
            .times
            .iter()
            .zip(pair.times.iter().skip(1))
            .map(|(earlier, later)| (later - earlier) as f64 / 1_000.0)
            .collect();
        if intervals.len() < self.config.min_intervals.max(2) {
            return Vec::new();
        }
        let Some(regularity) = Regularity::of(&intervals) else { return Vec::new() };
        let in_range = regularity.median >= self.config.min_period.as_secs_f64()
            && regularity.median <= self.config.max_period.as_secs_f64();
        // A NaN setting compares false: it disables the detector rather than firing on all.
        let regular = regularity.dispersion <= self.config.max_dispersion;
        if !in_range || !regular {
            return Vec::new();
        }

        pair.last_alert = Some(now);
        let first = pair.times.front().copied().unwrap_or(now);
        let first_seen = Timestamp::from_millisecond(first).unwrap_or(time);
        let port_text = pair.port.map(|port| format!(":{port}")).unwrap_or_default();
        let summary = format!(
            "{source_text} contacted {destination}{port_text} {} times at a regular interval of \
             {} (median absolute deviation {:.0} %, coefficient of variation {:.0} %) since \
             {first_seen}",
            pair.times.len(),
            duration_text(regularity.median),
            regularity.dispersion * 100.0,
            regularity.variation * 100.0,
        );
        let mut alert = META.alert(key.as_str(), summary, first_seen, time);
        alert.entities.ips.insert(source_text);
        for address in &pair.addresses {
            alert.entities.ips.insert(address.clone());
        }
        if let Some(domain) = domain {
            alert.entities.domains.insert(domain);
        }
        alert.add_evidence(pair.ids.iter().copied());
        vec![alert]
    }

    fn save_json(&self) -> Box<serde_json::value::RawValue> {
        crate::state_json(META.id, &self.state)
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<()> {
        let mut state: State = serde_json::from_value(state)
            .map_err(|source| crate::Error::State { detector: META.id.to_owned(), source })?;
        // Settings may have shrunk since the state was saved.
        let history = self.config.history.max(3);
        for pair in state.pairs.values_mut() {
            let keep = pair.times.len().min(pair.ids.len()).min(history);
            while pair.times.len() > keep {
                pair.times.pop_front();
            }
            while pair.ids.len() > keep {
                pair.ids.pop_front();
            }
        }
        let max = self.config.max_pairs;
        evict_least_recent(&mut state.pairs, max, |pair| pair.last_seen);
        evict_least_recent(&mut state.destinations, max, |entry| entry.last_seen);
        evict_least_recent(&mut state.links, max, |link| link.last_seen);
        self.state = state;
        Ok(())
    }
}

/// When the connection began, in milliseconds: `event.start` when the record has one close to
/// its time (Suricata stamps a flow record when the flow ends or times out, which adds the
/// flow's length and the timeout to every contact and blurs the rhythm), else the event time
/// (Zeek stamps a connection with its start already).
fn contact_time(event: &Event, event_time: i64) -> i64 {
    const MAX_SKEW_MS: i64 = 86_400_000;
    text(event, "event.start")
        .and_then(|start| start.trim().parse::<Timestamp>().ok())
        .map(Timestamp::as_millisecond)
        .filter(|start| (event_time - start).abs() <= MAX_SKEW_MS)
        .unwrap_or(event_time)
}

/// Adds one contact to a pair's history, kept in time order and at most `history` long.
/// Returns false when the contact merged into one already recorded (nothing new to judge).
fn record_contact(pair: &mut Pair, now: i64, id: EventId, merge_ms: f64, history: usize) -> bool {
    // Records can arrive slightly out of order (sensors flush on their own schedules): insert
    // at the right place rather than assume the stream is sorted.
    let position = pair.times.partition_point(|time| *time <= now);
    let near = |index: usize| {
        pair.times.get(index).is_some_and(|time| ((now - time).abs() as f64) < merge_ms)
    };
    if (position > 0 && near(position - 1)) || near(position) {
        return false;
    }
    pair.times.insert(position, now);
    pair.ids.insert(position, id);
    while pair.times.len() > history {
        pair.times.pop_front();
        pair.ids.pop_front();
    }
    true
}

/// How regular a series of intervals is.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Regularity {
    /// Median interval, seconds.
    median: f64,
    /// Median absolute deviation over the median: the robust spread.
    dispersion: f64,
    /// Standard deviation over the mean: the classic spread, for the summary.
    variation: f64,
}

impl Regularity {
    /// `None` for fewer than two intervals or a median of zero.
    fn of(intervals: &[f64]) -> Option<Self> {
        let finite: Vec<f64> =
            intervals.iter().copied().filter(|value| value.is_finite()).collect();
        if finite.len() < 2 {
            return None;
        }
        let median = median_of(&finite)?;
        if median <= 0.0 {
            return None;
        }
        let deviations: Vec<f64> = finite.iter().map(|value| (value - median).abs()).collect();
        let mad = median_of(&deviations)?;
        let count = finite.len() as f64;
        let mean = finite.iter().sum::<f64>() / count;
        let variance = finite.iter().map(|value| (value - mean).powi(2)).sum::<f64>() / count;
        let variation = if mean > 0.0 { variance.sqrt() / mean } else { f64::INFINITY };
        Some(Self { median, dispersion: mad / median, variation })
    }
}

fn median_of(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.is_empty() {
        None
    } else if sorted.len().is_multiple_of(2) {
        Some((sorted.get(middle - 1)? + sorted.get(middle)?) / 2.0)
    } else {
        sorted.get(middle).copied()
    }
}

/// An interval for people: `5m 0s`, `1h 2m`, `45s`.
fn duration_text(seconds: f64) -> String {
    let total = seconds.round().max(0.0) as u64;
    let (hours, minutes, secs) = (total / 3_600, total % 3_600 / 60, total % 60);
    if hours > 0 {
        format!("{hours}h {minutes}m")
    } else if minutes > 0 {
        format!("{minutes}m {secs}s")
    } else {
        format!("{secs}s")
    }
}

/// A domain as compared: lower case, without the root's trailing dot.
fn normalise_domain(domain: &str) -> String {
    let domain = domain.trim();
    domain.strip_suffix('.').unwrap_or(domain).to_ascii_lowercase()
}

fn parse_port_rule(entry: &str) -> Option<PortRule> {
    let entry = entry.trim();
    let (port, transport) = match entry.split_once('/') {
        Some((port, transport)) => (port, Some(transport.trim().to_ascii_lowercase())),
        None => (entry, None),
    };
    let port = port.trim().parse().ok()?;
    if transport.as_deref().is_some_and(str::is_empty) {
        return None;
    }
    Some(PortRule { port, transport })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use palisade_event::Value;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    const MINUTE: f64 = 60.0;
    const HOUR: f64 = 3_600.0;
    /// 2025-03-03T00:00:00Z.
    const START: f64 = 1_740_960_000.0;

    fn at(second: f64) -> Timestamp {
        Timestamp::from_millisecond((second * 1_000.0) as i64).expect("valid time")
    }

    /// A connection record as Zeek's conn log gives it.
    fn connection(source: &str, destination: &str, port: i64, transport: &str) -> Event {
        Event::from_fields(vec![
            ("event.category".into(), Value::List(vec![Value::from("network")])),
            (
                "event.type".into(),
                Value::List(vec![
                    Value::from("connection"),
                    Value::from("start"),
                    Value::from("end"),
                ]),
            ),
            ("source.ip".into(), Value::from(source)),
            ("destination.ip".into(), Value::from(destination)),
            ("destination.port".into(), Value::Int(port)),
            ("network.transport".into(), Value::from(transport)),
            ("source.bytes".into(), Value::Int(420)),
        ])
    }

    /// A TLS record (Zeek's ssl log) naming the server of a connection.
    fn tls(source: &str, destination: &str, server_name: &str) -> Event {
        Event::from_fields(vec![
            ("event.category".into(), Value::List(vec![Value::from("network")])),
            ("event.type".into(), Value::List(vec![Value::from("protocol")])),
            ("source.ip".into(), Value::from(source)),
            ("destination.ip".into(), Value::from(destination)),
            ("destination.port".into(), Value::Int(443)),
            ("destination.domain".into(), Value::from(server_name)),
            ("tls.client.server_name".into(), Value::from(server_name)),
        ])
    }

    #[derive(Default)]
    struct Script {
        events: Vec<(f64, Event, &'static str)>,
    }

    impl Script {
        fn add(&mut self, time: f64, event: Event, label: &'static str) {
            self.events.push((time, event, label));
        }
    }

    struct Outcome {
        alerts: Vec<Alert>,
        ids_by_label: HashMap<&'static str, Vec<EventId>>,
    }

    fn run(detector: &mut Beaconing, mut script: Script) -> Outcome {
        script.events.sort_by(|left, right| left.0.total_cmp(&right.0));
        let mut alerts = Vec::new();
        let mut ids_by_label: HashMap<&'static str, Vec<EventId>> = HashMap::new();
        for (index, (time, event, label)) in script.events.iter().enumerate() {
            let id = index as EventId + 1;
            ids_by_label.entry(label).or_default().push(id);
            if detector.wants(event) {
                alerts.extend(detector.observe(event, id, at(*time)));
            }
        }
        Outcome { alerts, ids_by_label }
    }

    #[test]
    fn regularity_of_series() {
        let steady = Regularity::of(&[60.0; 20]).expect("regular");
        assert_eq!(steady.median, 60.0);
        assert_eq!(steady.dispersion, 0.0);
        // One missed check-in (a double interval) barely moves the robust spread.
        let mut missed = vec![60.0; 19];
        missed.push(120.0);
        assert_eq!(Regularity::of(&missed).expect("regular").dispersion, 0.0);
        assert!(Regularity::of(&missed).expect("regular").variation > 0.1);
        assert!(Regularity::of(&[1.0]).is_none());
        assert!(Regularity::of(&[0.0, 0.0, 0.0]).is_none());
        assert!(Regularity::of(&[f64::NAN, f64::INFINITY]).is_none());
    }

    #[test]
    fn networks_ports_and_internal_ranges() {
        let network = Network::parse("198.51.100.0/24").expect("network");
        assert!(network.contains("198.51.100.7".parse().expect("ip")));
        assert!(!network.contains("198.51.101.7".parse().expect("ip")));
        assert!(Network::parse("0.0.0.0/0").expect("all").contains("8.8.8.8".parse().expect("ip")));
        assert!(Network::parse("10.0.0.0/33").is_none());
        assert!(Network::parse("example.com").is_none());
        assert_eq!(
            parse_port_rule("123/UDP"),
            Some(PortRule { port: 123, transport: Some("udp".into()) })
        );
        assert_eq!(parse_port_rule("443"), Some(PortRule { port: 443, transport: None }));
        assert_eq!(parse_port_rule("70000"), None);
        assert_eq!(parse_port_rule("53/"), None);
        for internal in
            ["10.1.2.3", "172.20.0.1", "192.168.1.1", "100.64.0.1", "fd00::1", "fe80::1"]
        {
            assert!(is_internal(internal.parse().expect("ip")), "{internal}");
        }
        for external in ["8.8.8.8", "198.51.100.7", "2001:db8::1", "100.128.0.1"] {
            assert!(!is_internal(external.parse().expect("ip")), "{external}");
        }
    }

    /// Five days of twenty internal hosts browsing a hundred sites at random in office hours,
    /// each syncing time every 1024 s with NTP (`123/udp`, perfectly regular) and running a
    /// monitoring agent that reports every two minutes to one SaaS endpoint (regular, but every
    /// host does it); five of them checking Windows Update four to eight times a day at
    /// irregular times; one host reading the same news site day and night with human gaps.
    /// The attack: from hour 20 to hour 40, host 10.0.0.7's implant checks in with
    /// `cdn-telemetry.example` every five minutes with ±20 % jitter, missing some check-ins,
    /// over two addresses the domain moves between. The domain is only in the TLS records;
    /// the connection records carry addresses.
    #[test]
    fn scenario_fires_on_the_implant_only() {
        let mut rng = StdRng::seed_from_u64(0xBEAC_0001);
        let mut script = Script::default();
        let hosts: Vec<String> = (1..=20).map(|n| format!("10.0.0.{n}")).collect();
        let sites: Vec<String> =
            (0..100).map(|n| format!("93.184.{}.{}", n / 50, n % 50 + 1)).collect();
        let days = 5;
        let end = START + f64::from(days) * 24.0 * HOUR;

        for (index, host) in hosts.iter().enumerate() {
            // Browsing in office hours, in sessions of a few requests.
            let mut time = START + rng.random_range(0.0..HOUR);
            while time < end {
                let hour = ((time - START) / HOUR) % 24.0;
                if (8.0..18.0).contains(&hour) {
                    let site = &sites[rng.random_range(0..sites.len())];
                    for burst in 0..rng.random_range(1..6) {
                        let at = time + f64::from(burst) * rng.random_range(0.05..1.5);
                        script.add(at, connection(host, site, 443, "tcp"), "browsing");
                    }
                }
                time += rng.random_range(30.0..900.0);
            }
            // NTP every 1024 s, exactly.
            let mut time = START + rng.random_range(0.0..1024.0);
            while time < end {
                script.add(time, connection(host, "203.0.113.123", 123, "udp"), "ntp");
                time += 1024.0;
            }
            // Monitoring agent: every two minutes, every host, to one SaaS endpoint.
            let mut time = START + rng.random_range(0.0..120.0);
            while time < end {
                script.add(time, connection(host, "52.84.1.2", 443, "tcp"), "agent");
                time += 120.0 + rng.random_range(-0.5..0.5);
            }
            // Windows Update, on a few hosts (too few to count as a shared service): four to
            // eight checks a day at irregular times.
            if index < 5 {
                for day in 0..days {
                    let day_start = START + f64::from(day) * 24.0 * HOUR;
                    for _ in 0..rng.random_range(4..9) {
                        let at = day_start + rng.random_range(0.0..24.0 * HOUR);
                        let server = "fe2.update.microsoft.com";
                        script.add(at, tls(host, "20.190.128.10", server), "update");
                        script.add(
                            at + 0.01,
                            connection(host, "20.190.128.10", 443, "tcp"),
                            "update",
                        );
                    }
                }
            }
        }
        // The same news site day and night, as a person reads it: gaps of seconds to an hour.
        let mut time = START + 8.0 * HOUR;
        while time < end {
            script.add(time, connection("10.0.0.3", "151.101.1.67", 443, "tcp"), "news");
            let gap: f64 = -(1.0 - rng.random::<f64>()).ln() * 12.0 * MINUTE;
            time += gap.max(20.0);
        }
        // The implant.
        let addresses = ["198.51.100.77", "198.51.100.78"];
        let mut time = START + 20.0 * HOUR;
        let mut beat = 0;
        while time < START + 40.0 * HOUR {
            if !rng.random_bool(0.08) {
                let address = addresses[(beat / 30) % 2];
                script.add(time, tls("10.0.0.7", address, "cdn-telemetry.example."), "implant-tls");
                script.add(time + 0.2, connection("10.0.0.7", address, 443, "tcp"), "implant");
            }
            beat += 1;
            time += 300.0 * (1.0 + rng.random_range(-0.2..0.2));
        }

        let mut detector = Beaconing::new(BeaconingConfig::default());
        let outcome = run(&mut detector, script);
        assert_eq!(outcome.alerts.len(), 1, "{:#?}", outcome.alerts);
        let alert = &outcome.alerts[0];
        assert_eq!(alert.rule_id, "palisade.beaconing");
        assert_eq!(alert.group, "10.0.0.7 -> cdn-telemetry.example");
        assert!(alert.entities.ips.contains("10.0.0.7"));
        assert!(alert.entities.ips.contains("198.51.100.77"));
        assert!(alert.entities.domains.contains("cdn-telemetry.example"));
        assert!(alert.evidence.len() >= 13, "{:?}", alert.evidence);
        let implant = &outcome.ids_by_label["implant"];
        assert!(alert.evidence.iter().all(|id| implant.contains(id)), "{:?}", alert.evidence);
        assert!(alert.first_seen >= at(START + 20.0 * HOUR));
        assert!(alert.last_seen < at(START + 40.0 * HOUR));
        assert!(alert.summary.contains("5m"), "{}", alert.summary);

        // The look-alikes are quiet for the reasons the settings give, not by chance: without
        // the shared-service check the agent fires on every host, and without the port rule
        // NTP does.
        let config = BeaconingConfig {
            max_sources_per_destination: 0,
            allowed_ports: vec![],
            ..Default::default()
        };
        let mut loose = Beaconing::new(config);
        let mut rerun = Script::default();
        for host in &hosts[..3] {
            for beat in 0..20 {
                let time = START + f64::from(beat) * 120.0;
                rerun.add(time, connection(host, "52.84.1.2", 443, "tcp"), "agent");
                rerun.add(time + 7.0, connection(host, "203.0.113.123", 123, "udp"), "ntp");
            }
        }
        assert_eq!(run(&mut loose, rerun).alerts.len(), 6);
    }

    #[test]
    fn shared_services_ntp_and_allow_list_are_quiet_but_can_be_enabled() {
        // One host, a steady one-minute check-in to an address on the allow-list, to NTP, and
        // to a domain on the allow-list.
        let mut script = Script::default();
        for beat in 0..40 {
            let time = START + f64::from(beat) * 60.0;
            script.add(time, connection("10.0.0.5", "203.0.113.9", 8443, "tcp"), "allowed-ip");
            script.add(time + 1.0, connection("10.0.0.5", "203.0.113.123", 123, "udp"), "ntp");
            script.add(time + 5.0, tls("10.0.0.5", "198.51.100.5", "eu.time.cloudflare.com"), "");
            script.add(time + 5.1, connection("10.0.0.5", "198.51.100.5", 4460, "tcp"), "nts");
        }
        let config = BeaconingConfig {
            allowed_destinations: vec!["203.0.113.0/24".into(), "time.cloudflare.com.".into()],
            ..Default::default()
        };
        let outcome = run(&mut Beaconing::new(config), script);
        assert!(outcome.alerts.is_empty(), "{:#?}", outcome.alerts);

        // The same NTP traffic with the port rule removed is caught: the rule is what keeps it
        // quiet, not chance.
        let mut script = Script::default();
        for beat in 0..40 {
            let time = START + f64::from(beat) * 60.0;
            script.add(time, connection("10.0.0.5", "203.0.113.123", 123, "udp"), "ntp");
        }
        let config = BeaconingConfig { allowed_ports: vec![], ..Default::default() };
        let outcome = run(&mut Beaconing::new(config), script);
        assert_eq!(outcome.alerts.len(), 1);
        // And NTP over TCP port 123 is not NTP.
        let mut script = Script::default();
        for beat in 0..40 {
            let time = START + f64::from(beat) * 60.0;
            script.add(time, connection("10.0.0.5", "203.0.113.124", 123, "tcp"), "odd");
        }
        let outcome = run(&mut Beaconing::new(BeaconingConfig::default()), script);
        assert_eq!(outcome.alerts.len(), 1);
    }

    #[test]
    fn internal_destinations_and_external_sources_are_out_of_scope() {
        let mut script = Script::default();
        for beat in 0..40 {
            let time = START + f64::from(beat) * 60.0;
            script.add(time, connection("10.0.0.5", "10.0.0.1", 445, "tcp"), "internal");
            script.add(time, connection("198.51.100.9", "10.0.0.1", 443, "tcp"), "inbound");
        }
        let outcome = run(&mut Beaconing::new(BeaconingConfig::default()), script);
        assert!(outcome.alerts.is_empty(), "{:#?}", outcome.alerts);
    }

    #[test]
    fn cooldown_limits_alerts_per_pair() {
        let mut script = Script::default();
        for beat in 0..400 {
            let time = START + f64::from(beat) * 600.0;
            script.add(time, connection("10.0.0.5", "198.51.100.9", 443, "tcp"), "beacon");
        }
        // 400 beats of ten minutes: about 2.8 days, so one alert a day at most.
        let outcome = run(&mut Beaconing::new(BeaconingConfig::default()), script);
        assert_eq!(outcome.alerts.len(), 3, "{:#?}", outcome.alerts);
    }

    #[test]
    fn save_and_restore_keep_the_history() {
        let beats = |from: i32, to: i32| {
            let mut script = Script::default();
            for beat in from..to {
                let time = START + f64::from(beat) * 120.0;
                script.add(time, connection("10.0.0.5", "198.51.100.9", 443, "tcp"), "beacon");
            }
            script
        };
        let mut first = Beaconing::new(BeaconingConfig::default());
        assert!(run(&mut first, beats(0, 8)).alerts.is_empty());
        let saved = serde_json::to_string(&first.save()).expect("state serialises");

        let mut restored = Beaconing::new(BeaconingConfig::default());
        restored.restore(serde_json::from_str(&saved).expect("state parses")).expect("restores");
        // Six more beats: twelve intervals only with the seven from before the restart.
        let outcome = run(&mut restored, beats(8, 14));
        assert_eq!(outcome.alerts.len(), 1);

        let mut fresh = Beaconing::new(BeaconingConfig::default());
        assert!(run(&mut fresh, beats(8, 14)).alerts.is_empty());

        let error = Beaconing::new(BeaconingConfig::default())
            .restore(serde_json::json!({"pairs": []}))
            .expect_err("bad state is refused");
        assert!(matches!(error, crate::Error::State { .. }));
    }

    #[test]
    fn state_is_bounded_and_out_of_order_records_are_placed() {
        let config = BeaconingConfig { max_pairs: 100, history: 10, ..Default::default() };
        let mut detector = Beaconing::new(config);
        for n in 0..5_000_u32 {
            let destination = format!("198.51.{}.{}", n / 250, n % 250 + 1);
            let event = connection("10.0.0.5", &destination, 443, "tcp");
            detector.observe(&event, u64::from(n), at(START + f64::from(n)));
        }
        assert!(detector.state.pairs.len() <= 100);
        assert!(detector.state.destinations.len() <= 100);

        let mut pair = Pair {
            times: VecDeque::new(),
            ids: VecDeque::new(),
            addresses: Vec::new(),
            port: None,
            last_seen: 0,
            last_alert: None,
        };
        for (time, id) in [(10_000, 1), (30_000, 3), (20_000, 2), (20_500, 4), (5_000, 0)] {
            record_contact(&mut pair, time, id, 2_000.0, 3);
        }
        assert_eq!(pair.times, [10_000, 20_000, 30_000]);
        assert_eq!(pair.ids, [1, 2, 3]);
    }

    #[test]
    fn flow_records_are_timed_by_their_start() {
        // Suricata-like flow records: stamped when each flow times out, after a varying
        // lifetime, but started every three minutes exactly.
        let mut rng = StdRng::seed_from_u64(3);
        let mut script = Script::default();
        for beat in 0..20 {
            let start = START + f64::from(beat) * 180.0;
            let mut event = connection("10.0.0.5", "198.51.100.9", 443, "tcp");
            let started = at(start).to_string();
            event.insert("event.start", Value::from(started.as_str()));
            script.add(start + rng.random_range(30.0..150.0), event, "flow");
        }
        let outcome = run(&mut Beaconing::new(BeaconingConfig::default()), script);
        assert_eq!(outcome.alerts.len(), 1, "{:#?}", outcome.alerts);
        assert!(outcome.alerts[0].summary.contains("3m 0s"), "{}", outcome.alerts[0].summary);
        assert_eq!(contact_time(&Event::new(), 42), 42);
    }

    #[test]
    fn odd_input_does_not_panic() {
        let mut detector = Beaconing::new(BeaconingConfig {
            merge: SignedDuration::from_secs(-2),
            max_dispersion: f64::NAN,
            allowed_ports: vec!["x".into()],
            allowed_destinations: vec!["10.0.0.0/99".into(), String::new()],
            ..Default::default()
        });
        let odd = Event::from_fields(vec![
            ("event.type".into(), Value::from("connection")),
            ("source.ip".into(), Value::from("10.0.0.1")),
            ("destination.ip".into(), Value::from("not an address")),
            ("destination.port".into(), Value::Float(f64::NAN)),
        ]);
        for n in 0..50 {
            assert!(detector.observe(&odd, n, at(START + n as f64)).is_empty());
            let event = connection("10.0.0.1", "198.51.100.1", -1, "");
            assert!(detector.observe(&event, n, at(START + n as f64 * 60.0)).is_empty());
        }
    }
}
