//! Behaviour detectors: detections that need memory or arithmetic that a Sigma rule cannot
//! express (a baseline per user, the distance between two logins, the regularity of
//! connections). Each is one module with its documentation in `docs/detectors/`.
//!
//! A detector sees the events it [`wants`](Behaviour::wants) in stream order, with their store
//! ids, and keeps what it learns in state that is bounded in memory and saved across restarts
//! ([`Behaviour::save`] / [`Behaviour::restore`]). It works on event time only: the time of
//! the event it is looking at is "now", so that a replay of history behaves like the live
//! stream.

pub mod beaconing;
pub mod brute_force;
pub mod dga_domain;
pub mod dns_tunnelling;
pub mod impossible_travel;
pub mod login;
pub mod new_device;
pub mod new_geo_login;
pub mod outbound_transfer;
pub mod password_spraying;
pub mod rare_parent_child;

use jiff::Timestamp;
use palisade_event::Event;
use serde_json::value::RawValue;

use crate::{Alert, EventId, Result, Severity};

/// What every detector says about itself: shown with its alerts and in `palisade rules list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BehaviourMeta {
    /// Stable id, `palisade.<snake_case_name>`: the alert's `rule_id`, and the key of its saved
    /// state and of its settings.
    pub id: &'static str,
    /// Title for people.
    pub title: &'static str,
    /// Severity of the alerts it raises.
    pub severity: Severity,
    /// ATT&CK technique ids.
    pub attack: &'static [&'static str],
}

impl BehaviourMeta {
    /// A new alert from this detector about `group` (the user, host or pair it concerns),
    /// with one evidence event; `detected_at` is set to `last_seen` until the caller stamps it.
    #[must_use]
    pub fn alert(
        &self,
        group: impl Into<String>,
        summary: impl Into<String>,
        first_seen: Timestamp,
        last_seen: Timestamp,
    ) -> Alert {
        Alert {
            rule_id: self.id.to_owned(),
            rule_title: self.title.to_owned(),
            kind: crate::AlertKind::Behaviour,
            severity: self.severity,
            attack: self.attack.iter().map(|id| (*id).to_owned()).collect(),
            group: group.into(),
            summary: summary.into(),
            entities: crate::Entities::default(),
            evidence: Vec::new(),
            count: 1,
            first_seen,
            last_seen,
            detected_at: last_seen,
        }
    }
}

/// One event as the detectors see it: the event, and what several of them read from it, read
/// once (on first use) and shared.
#[derive(Debug)]
pub struct Seen<'e> {
    event: &'e Event,
    readings: Readings,
}

impl<'e> Seen<'e> {
    /// An event, nothing read from it yet.
    #[must_use]
    pub fn new(event: &'e Event) -> Self {
        Self { event, readings: Readings::default() }
    }

    /// The event.
    #[must_use]
    pub fn event(&self) -> &'e Event {
        self.event
    }

    /// Its login facts ([`login::Facts::read`]), read on the first call.
    #[must_use]
    pub fn login(&self) -> &login::Facts {
        self.readings.login.get_or_init(|| login::Facts::read(self.event))
    }

    /// The event again, with what was read of it before ([`Seen::into_readings`]).
    #[must_use]
    pub fn resume(event: &'e Event, readings: Readings) -> Self {
        Self { event, readings }
    }

    /// What was read of the event, kept for when it is seen again: the server asks the
    /// detectors whether they want an event before storing it and shows it to them after,
    /// and reading a login's facts twice was a tenth of the CPU of ingesting logins.
    #[must_use]
    pub fn into_readings(self) -> Readings {
        self.readings
    }
}

/// What was read of one event by the detectors ([`Seen::into_readings`]), without the event.
#[derive(Debug, Default)]
pub struct Readings {
    login: std::cell::OnceCell<login::Facts>,
}

/// One behaviour detector.
///
/// `Sync` because a second set built from the same settings answers [`wants`](Self::wants)
/// for several input threads at once ([`crate::stage::Interest`]).
pub trait Behaviour: Send + Sync {
    /// Who it is.
    fn meta(&self) -> &BehaviourMeta;

    /// True when the detector needs to see `event`: a cheap test on a field or two
    /// (`event.category`, the presence of `dns.question.name`...). Only wanted events are
    /// passed to [`observe`](Self::observe).
    ///
    /// The answer must depend on the event and the detector's settings only, never on what
    /// it has observed: the server asks a twin built from the same settings, without the
    /// detector's lock ([`crate::stage::Interest`]).
    fn wants(&self, event: &Event) -> bool;

    /// Looks at one wanted event, stored under `id`, whose event time is `time` (the event's
    /// `@timestamp`, or its arrival time when it has none). Returns the alerts it raises now,
    /// usually none. `detected_at` of the alerts is filled in by the caller.
    fn observe(&mut self, event: &Event, id: EventId, time: Timestamp) -> Vec<Alert>;

    /// [`wants`](Self::wants), for a detector that reads what other detectors read too: the
    /// default asks `wants` of the event.
    fn wants_seen(&self, seen: &Seen<'_>) -> bool {
        self.wants(seen.event())
    }

    /// [`observe`](Self::observe), with what other detectors read of the event shared; the
    /// default observes the event. The detector runs this one; a detector that overrides it
    /// makes `observe` call it, so that both give the same answers.
    fn observe_seen(&mut self, seen: &Seen<'_>, id: EventId, time: Timestamp) -> Vec<Alert> {
        self.observe(seen.event(), id, time)
    }

    /// Everything it has learnt, to be saved across restarts, as JSON text written straight
    /// from the state: the checkpoint takes it with detection paused, and building a
    /// `serde_json::Value` tree of a large state first (a new-device inventory of 100,000
    /// addresses) took several times longer.
    fn save_json(&self) -> Box<RawValue>;

    /// [`save_json`](Self::save_json) as a value.
    fn save(&self) -> serde_json::Value {
        serde_json::from_str(self.save_json().get()).unwrap_or(serde_json::Value::Null)
    }

    /// Takes back what [`save`](Self::save) returned.
    ///
    /// # Errors
    /// [`crate::Error::State`] when `state` does not decode.
    fn restore(&mut self, state: serde_json::Value) -> Result<()>;
}

/// The settings of every behaviour detector (`[detect.behaviour.<name>]` in the config file).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BehaviourConfig {
    /// `[detect.behaviour.brute_force]`: see docs/detectors/brute_force.md.
    pub brute_force: brute_force::BruteForceConfig,
    /// `[detect.behaviour.password_spraying]`: see docs/detectors/password_spraying.md.
    pub password_spraying: password_spraying::PasswordSprayingConfig,
    /// `[detect.behaviour.impossible_travel]`: see docs/detectors/impossible_travel.md.
    pub impossible_travel: impossible_travel::ImpossibleTravelConfig,
    /// `[detect.behaviour.new_geo_login]`: see docs/detectors/new_geo_login.md.
    pub new_geo_login: new_geo_login::NewGeoLoginConfig,
    /// `[detect.behaviour.new_device]`: see docs/detectors/new_device.md.
    pub new_device: new_device::NewDeviceConfig,
    /// `[detect.behaviour.beaconing]`: see docs/detectors/beaconing.md.
    pub beaconing: beaconing::BeaconingConfig,
    /// `[detect.behaviour.outbound_transfer]`: see docs/detectors/outbound_transfer.md.
    pub outbound_transfer: outbound_transfer::OutboundTransferConfig,
    /// `[detect.behaviour.dga_domain]`: see docs/detectors/dga_domain.md.
    pub dga_domain: dga_domain::DgaDomainConfig,
    /// `[detect.behaviour.dns_tunnelling]`: see docs/detectors/dns_tunnelling.md.
    pub dns_tunnelling: dns_tunnelling::DnsTunnellingConfig,
    /// `[detect.behaviour.rare_parent_child]`: see docs/detectors/rare_parent_child.md.
    pub rare_parent_child: rare_parent_child::RareParentChildConfig,
}

/// Every behaviour detector, configured.
#[must_use]
pub fn all(config: &BehaviourConfig) -> Vec<Box<dyn Behaviour>> {
    vec![
        Box::new(brute_force::BruteForce::new(config.brute_force.clone())),
        Box::new(password_spraying::PasswordSpraying::new(config.password_spraying.clone())),
        Box::new(impossible_travel::ImpossibleTravel::new(config.impossible_travel.clone())),
        Box::new(new_geo_login::NewGeoLogin::new(config.new_geo_login.clone())),
        Box::new(new_device::NewDevice::new(config.new_device.clone())),
        Box::new(beaconing::Beaconing::new(config.beaconing.clone())),
        Box::new(outbound_transfer::OutboundTransfer::new(config.outbound_transfer.clone())),
        Box::new(dga_domain::DgaDomain::new(config.dga_domain.clone())),
        Box::new(dns_tunnelling::DnsTunnelling::new(config.dns_tunnelling.clone())),
        Box::new(rare_parent_child::RareParentChild::new(config.rare_parent_child.clone())),
    ]
}

/// Helpers the detectors share: reading fields, durations in settings, time spans, bounded
/// maps, IP networks and DNS names.
pub mod util {
    use std::collections::HashMap;
    use std::net::IpAddr;

    /// The detectors' state, keyed by names and addresses from the events: one or more
    /// lookups per event each detector wants. std's SipHash took a fifth of the password
    /// spraying detector's time; foldhash's quality hasher is several times faster. Its seed
    /// is random per process (and per map), so keys written into logs by an attacker cannot
    /// be chosen to collide.
    pub type Map<V> = HashMap<String, V, foldhash::quality::RandomState>;

    use jiff::{SignedDuration, Timestamp};
    use palisade_event::{Event, Value};

    /// The text of a field, when it has one that is not empty or `-`.
    #[must_use]
    pub fn text<'e>(event: &'e Event, field: &str) -> Option<std::borrow::Cow<'e, str>> {
        let value = event.get(field)?;
        let text = match value {
            Value::List(items) => items.first()?.to_text()?,
            other => other.to_text()?,
        };
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed == "-" {
            return None;
        }
        Some(text)
    }

    /// A field's value as a number, when it is one (or text that parses as one).
    #[must_use]
    pub fn number(event: &Event, field: &str) -> Option<f64> {
        match event.get(field)? {
            Value::Int(value) => Some(*value as f64),
            Value::Float(value) => Some(*value),
            Value::Str(text) => text.as_str().trim().parse().ok(),
            _ => None,
        }
    }

    /// True when a field holds `wanted` (compared case-insensitively), as a value or in a list.
    #[must_use]
    pub fn has(event: &Event, field: &str, wanted: &str) -> bool {
        holds(event.get(field), wanted)
    }

    /// [`has`] for a value already looked up.
    #[must_use]
    pub fn holds(value: Option<&Value>, wanted: &str) -> bool {
        match value {
            Some(Value::List(items)) => items
                .iter()
                .any(|item| item.to_text().is_some_and(|text| text.eq_ignore_ascii_case(wanted))),
            Some(value) => value.to_text().is_some_and(|text| text.eq_ignore_ascii_case(wanted)),
            None => false,
        }
    }

    /// A field's value as an IP address (the first one of a list), as written: not
    /// canonicalised, so an IPv4-mapped IPv6 address stays IPv6.
    #[must_use]
    pub fn ip(event: &Event, field: &str) -> Option<IpAddr> {
        let value = match event.get(field)? {
            Value::List(items) => items.first()?,
            other => other,
        };
        value.to_text()?.trim().parse().ok()
    }

    /// Durations in settings, written as everywhere in the configuration file: `"30s"`,
    /// `"10m"`, `"12h"`, `"7d"`, `"2w"`, or any of jiff's friendly (`"1h 30m"`,
    /// `"14 days"`) and ISO 8601 (`"PT1H"`) forms. Days and weeks count as 24 hours and
    /// seven days: a calendar day is not always 24 hours, but for a detector's window it may
    /// as well be. Months and years, whose length varies, and negative durations are refused.
    ///
    /// Use it on a `SignedDuration` field with
    /// `#[serde(deserialize_with = "util::duration::deserialize")]`. Serialising needs nothing
    /// special: `SignedDuration`'s own form (ISO 8601) reads back.
    pub mod duration {
        use jiff::{SignedDuration, Span, SpanRelativeTo};
        use serde::Deserialize;

        /// Reads a duration setting; see [the module](self).
        ///
        /// # Errors
        /// When the value is not a string, does not parse, has months or years, or is
        /// negative.
        pub fn deserialize<'de, D: serde::Deserializer<'de>>(
            deserializer: D,
        ) -> Result<SignedDuration, D::Error> {
            let text = String::deserialize(deserializer)?;
            parse(&text).map_err(serde::de::Error::custom)
        }

        /// Parses a duration setting; see [the module](self). The error is a message for
        /// people.
        ///
        /// # Errors
        /// When `text` does not parse, has months or years, or is negative.
        pub fn parse(text: &str) -> Result<SignedDuration, String> {
            let trimmed = text.trim();
            // `SignedDuration` alone refuses days and weeks; a `Span` takes them.
            let duration = match trimmed.parse::<SignedDuration>() {
                Ok(duration) => duration,
                Err(_) => {
                    let span: Span = trimmed.parse().map_err(|error| format!("{error}"))?;
                    span.to_duration(SpanRelativeTo::days_are_24_hours())
                        .map_err(|error| format!("{error}"))?
                }
            };
            if duration.is_negative() {
                return Err(format!("{text:?} is negative"));
            }
            Ok(duration)
        }
    }

    /// A configured duration, with a negative one read as zero (settings built in code, not
    /// read through [`duration`], can hold one).
    #[must_use]
    pub fn non_negative(duration: SignedDuration) -> SignedDuration {
        if duration.is_negative() { SignedDuration::ZERO } else { duration }
    }

    /// True when `then` is no more than `span` away from `now`, in either direction.
    #[must_use]
    pub fn within(now: Timestamp, then: Timestamp, span: SignedDuration) -> bool {
        now.duration_since(then).abs() <= span
    }

    /// A duration as people read it (`12m 5s`), to the second.
    #[derive(Debug, Clone, Copy)]
    pub struct Elapsed(pub SignedDuration);

    impl std::fmt::Display for Elapsed {
        fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            let rounded = self.0.round(jiff::Unit::Second).unwrap_or(self.0);
            write!(formatter, "{rounded:#}")
        }
    }

    /// Removes the entries of `map` seen least recently (by `last_seen`, then by key) until
    /// at most `target` are left.
    pub fn drop_least_recent<V, T: Ord>(
        map: &mut Map<V>,
        target: usize,
        last_seen: impl Fn(&V) -> T,
    ) {
        if map.len() <= target {
            return;
        }
        let mut by_age: Vec<(T, String)> =
            map.iter().map(|(key, value)| (last_seen(value), key.clone())).collect();
        by_age.sort_unstable();
        let excess = map.len() - target;
        for (_, key) in by_age.into_iter().take(excess) {
            map.remove(&key);
        }
    }

    /// Once `map` is over `max` entries, drops the least recently seen: an eighth of `max`
    /// at a time, so the sort is paid rarely.
    pub fn evict_least_recent<V, T: Ord>(
        map: &mut Map<V>,
        max: usize,
        last_seen: impl Fn(&V) -> T,
    ) {
        let max = max.max(1);
        if map.len() <= max {
            return;
        }
        drop_least_recent(map, max - max / 8, last_seen);
    }

    /// True for addresses that are not routed on the internet as somebody else's: private
    /// (RFC 1918), loopback, link-local, shared address space (RFC 6598, carrier-grade NAT),
    /// unique-local IPv6 (`fc00::/7`) and unspecified.
    #[must_use]
    pub fn is_internal(address: IpAddr) -> bool {
        match address {
            IpAddr::V4(v4) => {
                let [first, second, ..] = v4.octets();
                v4.is_private()
                    || v4.is_loopback()
                    || v4.is_link_local()
                    || v4.is_unspecified()
                    || (first == 100 && (64..128).contains(&second))
            }
            IpAddr::V6(v6) => {
                if let Some(v4) = v6.to_ipv4_mapped() {
                    return is_internal(IpAddr::V4(v4));
                }
                let first = v6.segments()[0];
                v6.is_loopback()
                    || v6.is_unspecified()
                    || (first & 0xfe00) == 0xfc00
                    || (first & 0xffc0) == 0xfe80
            }
        }
    }

    /// An IP network (`192.0.2.0/24`, `2001:db8::/32`, or one address).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Network {
        address: IpAddr,
        prefix: u8,
    }

    impl Network {
        /// Reads `ADDRESS/PREFIX` or a single address; `None` when it is neither.
        #[must_use]
        pub fn parse(text: &str) -> Option<Self> {
            let text = text.trim();
            let (address, prefix) = match text.split_once('/') {
                Some((address, prefix)) => (address.trim().parse::<IpAddr>().ok()?, Some(prefix)),
                None => (text.parse::<IpAddr>().ok()?, None),
            };
            let width = if address.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                Some(prefix) => {
                    prefix.trim().parse::<u8>().ok().filter(|prefix| *prefix <= width)?
                }
                None => width,
            };
            Some(Self { address, prefix })
        }

        /// True when `address` is in the network (an IPv4 address is never in an IPv6
        /// network, nor the other way round).
        #[must_use]
        pub fn contains(&self, address: IpAddr) -> bool {
            match (self.address, address) {
                (IpAddr::V4(network), IpAddr::V4(address)) => {
                    let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                    u32::from(network) & mask == u32::from(address) & mask
                }
                (IpAddr::V6(network), IpAddr::V6(address)) => {
                    let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                    u128::from(network) & mask == u128::from(address) & mask
                }
                _ => false,
            }
        }
    }

    /// Second-level public suffixes common enough to matter (`co.uk`, `com.au`...): under
    /// them the registered domain has three labels, not two. A small list on purpose: a name
    /// under a suffix missing here is cut at the suffix instead, which makes the DGA detector
    /// score the suffix's label (short, or a word: quieter, never noisier) and the DNS tunnel
    /// detector merge a few domains' counts.
    const SECOND_LEVEL_SUFFIXES: &[&str] = &[
        "ac.uk", "co.uk", "gov.uk", "ltd.uk", "me.uk", "net.uk", "org.uk", "plc.uk", "sch.uk",
        "com.au", "net.au", "org.au", "edu.au", "gov.au", "asn.au", "id.au", "co.nz", "net.nz",
        "org.nz", "govt.nz", "ac.nz", "co.jp", "ne.jp", "or.jp", "ac.jp", "go.jp", "co.kr",
        "or.kr", "ac.kr", "go.kr", "com.cn", "net.cn", "org.cn", "gov.cn", "edu.cn", "com.hk",
        "org.hk", "com.tw", "org.tw", "edu.tw", "com.sg", "edu.sg", "com.my", "co.in", "net.in",
        "org.in", "gov.in", "ac.in", "co.za", "org.za", "gov.za", "ac.za", "com.br", "net.br",
        "org.br", "gov.br", "com.mx", "org.mx", "gob.mx", "com.ar", "gob.ar", "com.co", "com.pe",
        "com.ve", "com.ec", "com.tr", "gov.tr", "edu.tr", "com.ua", "co.il", "org.il", "ac.il",
        "gov.il", "com.pl", "co.id", "or.id", "ac.id", "go.id", "com.ph", "com.vn", "com.pk",
        "com.sa", "com.eg", "com.ng", "co.ke", "co.th", "in.th", "ac.th", "go.th", "co.at",
        "or.at", "com.gr", "com.cy", "com.mt", "co.hu", "com.ru", "org.ru", "spb.ru", "msk.ru",
    ];

    /// Top-level names that never reach the public DNS: no outside server answers them, and
    /// a generated name under them is a lab or a misconfiguration.
    const PRIVATE_TLDS: &[&str] = &[
        "local",
        "localhost",
        "internal",
        "lan",
        "home",
        "corp",
        "localdomain",
        "intranet",
        "test",
    ];

    /// A queried name cut at its public suffix.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct RegisteredDomain<'a> {
        /// The registered domain (`example.co.uk`).
        pub domain: &'a str,
        /// Its first label, the part its owner chose (`example`).
        pub label: &'a str,
    }

    /// Cuts a lower-case name without a trailing dot to its registered domain, with the
    /// small built-in suffix list. `None` for single-label names, private top-level names,
    /// numeric top-level labels (an address, not a name) and names that are a suffix
    /// themselves.
    #[must_use]
    pub fn registered_domain(name: &str) -> Option<RegisteredDomain<'_>> {
        let mut labels = name.rsplit('.');
        let tld = labels.next()?;
        let second = labels.next()?;
        if tld.is_empty() || second.is_empty() {
            return None;
        }
        if !tld.bytes().all(|byte| byte.is_ascii_alphabetic() || byte == b'-') {
            return None;
        }
        if PRIVATE_TLDS.contains(&tld) {
            return None;
        }
        let suffix_len = tld.len() + 1 + second.len();
        let suffix = &name[name.len() - suffix_len..];
        let (label, domain_len) = if SECOND_LEVEL_SUFFIXES.contains(&suffix) {
            let third = labels.next()?;
            (third, suffix_len + 1 + third.len())
        } else {
            (second, suffix_len)
        };
        if label.is_empty() {
            return None;
        }
        Some(RegisteredDomain { domain: &name[name.len() - domain_len..], label })
    }

    /// True when `name` is `suffix` or ends with `.suffix`; `suffix` is compared without
    /// surrounding blanks and dots, and an empty one matches nothing.
    #[must_use]
    pub fn under_suffix(name: &str, suffix: &str) -> bool {
        let suffix = suffix.trim().trim_matches('.');
        if suffix.is_empty() {
            return false;
        }
        name.len() >= suffix.len()
            && name.ends_with(suffix)
            && (name.len() == suffix.len()
                || name.as_bytes()[name.len() - suffix.len() - 1] == b'.')
    }

    /// The host that asked a DNS question. Sysmon's DNS event (22) is written on the asking
    /// computer; a resolver or sensor log names the client by address; an answer seen on the
    /// wire goes from port 53 back to the client, so there the client is the destination.
    #[must_use]
    pub fn querying_host(event: &Event) -> Option<String> {
        if event.get("QueryName").is_some() {
            let host = text(event, "Computer").or_else(|| text(event, "host.name"))?;
            return Some(host.trim().to_ascii_lowercase());
        }
        if let Some(client) = text(event, "client.ip") {
            return Some(client.trim().to_owned());
        }
        if number(event, "source.port") == Some(53.0)
            && let Some(client) = text(event, "destination.ip")
        {
            return Some(client.trim().to_owned());
        }
        text(event, "source.ip").map(|source| source.trim().to_owned())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn durations_read_units_days_weeks_and_jiff_forms() {
            let read = |text: &str| duration::parse(text);
            assert_eq!(read("30s"), Ok(SignedDuration::from_secs(30)));
            assert_eq!(read("10m"), Ok(SignedDuration::from_mins(10)));
            assert_eq!(read("12h"), Ok(SignedDuration::from_hours(12)));
            assert_eq!(read("7d"), Ok(SignedDuration::from_hours(7 * 24)));
            assert_eq!(read("2w"), Ok(SignedDuration::from_hours(14 * 24)));
            assert_eq!(read("1h 30m"), Ok(SignedDuration::from_mins(90)));
            assert_eq!(read("14 days"), Ok(SignedDuration::from_hours(14 * 24)));
            assert_eq!(read("PT1H"), Ok(SignedDuration::from_hours(1)));
            assert_eq!(read("P1D"), Ok(SignedDuration::from_hours(24)));
            assert_eq!(read(" 5m "), Ok(SignedDuration::from_mins(5)));
            assert_eq!(read("1.5s"), Ok(SignedDuration::from_millis(1_500)));
            assert_eq!(read("0s"), Ok(SignedDuration::ZERO));
            for bad in ["-1h", "1 month", "1y", "soon", "", "10"] {
                assert!(read(bad).is_err(), "{bad}");
            }
            // What `SignedDuration` writes reads back.
            let written = SignedDuration::from_hours(36).to_string();
            assert_eq!(read(&written), Ok(SignedDuration::from_hours(36)));
        }

        #[test]
        fn duration_settings_must_be_strings() {
            #[derive(Debug, serde::Deserialize)]
            struct Settings {
                #[serde(deserialize_with = "duration::deserialize")]
                window: SignedDuration,
            }
            let read = |value| serde_json::from_value::<Settings>(value);
            let settings = read(serde_json::json!({"window": "7d"})).unwrap();
            assert_eq!(settings.window, SignedDuration::from_hours(7 * 24));
            assert!(read(serde_json::json!({"window": 600})).is_err());
            assert!(read(serde_json::json!({"window": "-5m"})).is_err());
        }

        #[test]
        fn eviction_drops_the_least_recent_first() {
            let mut map: Map<i64> = (0..100).map(|age| (format!("k{age}"), age)).collect();
            evict_least_recent(&mut map, 80, |age| *age);
            assert_eq!(map.len(), 70);
            assert!(map.values().all(|age| *age >= 30));
            evict_least_recent(&mut map, 80, |age| *age);
            assert_eq!(map.len(), 70, "under the cap: nothing to do");
            drop_least_recent(&mut map, 10, |age| *age);
            assert_eq!(map.len(), 10);
            assert!(map.contains_key("k99") && !map.contains_key("k89"));
        }
    }
}
