//! The `palisade.outbound_transfer` detector: an internal host that sends far more data out of
//! the network in one time bucket (an hour by default) than it usually does at that time of
//! day, the volume signature of exfiltration.
//!
//! Per internal source address, it sums the bytes sent to external addresses (`source.bytes`,
//! else `network.bytes`) per bucket, and keeps an exponentially weighted mean and variance of
//! those sums per bucket of the day (hour-of-day by default), so recurring volume such as a
//! nightly backup becomes part of what is normal at that hour. Once a slot has learnt enough
//! days, it fires as soon as the running sum of the current bucket passes an absolute floor,
//! a multiple of the usual volume and a number of standard deviations above it, taking the
//! most permissive of the neighbouring slots so a job that starts a little earlier or later
//! (or moves by an hour with daylight saving time) stays quiet. See
//! `docs/detectors/outbound_transfer.md`.
//!
//! State is one small record per host (capped, least recently seen dropped first) and is what
//! [`Behaviour::save`] returns, so baselines survive restarts.

use std::net::IpAddr;

use jiff::{SignedDuration, Timestamp};
use palisade_event::Event;
use serde::{Deserialize, Serialize};

use super::util::{
    self, Map, Network, evict_least_recent, has, ip, is_internal, non_negative, number,
};
use super::{Behaviour, BehaviourMeta};
use crate::{Alert, EventId, Result, Severity};

/// Who the detector is.
const META: BehaviourMeta = BehaviourMeta {
    id: "palisade.outbound_transfer",
    title: "Outbound transfer far above the host's baseline",
    severity: Severity::High,
    attack: &["T1048", "T1041"],
};

/// Version of the saved state, bumped when its shape changes incompatibly.
const STATE_VERSION: u32 = 1;

const SECONDS_PER_DAY: i64 = 86_400;

/// Largest byte count believed from one event (1 PB): a larger value is a broken record, and
/// keeping sums finite keeps the state serialisable.
const MAX_EVENT_BYTES: f64 = 1e15;

/// Most destinations whose volume is tallied per bucket, for the alert's entities.
const MAX_DESTINATIONS: usize = 16;

/// Most records kept per bucket as evidence (the largest ones): enough to show where the
/// volume went, few enough that thousands of hosts stay cheap.
const MAX_BUCKET_EVIDENCE: usize = 32;

/// Destinations named in the alert's entities and summary.
const TOP_DESTINATIONS: usize = 5;

/// Settings of `[detect.behaviour.outbound_transfer]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboundTransferConfig {
    /// Length of a bucket: whole seconds, at least a minute, that divide a day (`"1h"`,
    /// `"30m"`, `"2h"`...), else an hour is used. Each bucket of the day has its own
    /// baseline, so shorter buckets cost more memory per host (a day's worth of slots).
    #[serde(deserialize_with = "util::duration::deserialize")]
    pub bucket: SignedDuration,
    /// Bytes a bucket must reach before anything is said, whatever the baseline: small hosts
    /// have tiny, noisy baselines that a single large download would otherwise exceed.
    pub min_bytes: f64,
    /// Standard deviations above the slot's mean a bucket must reach.
    pub sigmas: f64,
    /// Times the slot's mean a bucket must reach: where the volume is steady the standard
    /// deviation is small and `sigmas` alone would flag modest growth.
    pub min_ratio: f64,
    /// Weight of a new day in a slot's baseline once it has learnt `1 / alpha` days (before,
    /// each day counts equally): 0.1 follows a change of habits within two to three weeks.
    pub alpha: f64,
    /// Days a slot must have learnt before it can fire: the learning period.
    pub min_samples: u32,
    /// Neighbouring slots on each side whose baselines also count (the most permissive one
    /// wins): a recurring job that drifts by up to this many buckets stays normal.
    pub neighbour_slots: u32,
    /// After an alert, the same host does not alert again until this much event time has
    /// passed.
    #[serde(deserialize_with = "util::duration::deserialize")]
    pub cooldown: SignedDuration,
    /// Destinations whose traffic is not counted: IP addresses or CIDR networks of off-site
    /// backup targets, cloud storage the organisation uses for replication.
    pub allowed_destinations: Vec<String>,
    /// More networks (CIDR) to count as internal, besides private, loopback, link-local,
    /// unique-local and shared address space.
    pub internal_networks: Vec<String>,
    /// Most hosts tracked; past it, the least recently seen are dropped (and learn anew).
    pub max_hosts: usize,
}

impl Default for OutboundTransferConfig {
    fn default() -> Self {
        Self {
            bucket: SignedDuration::from_hours(1),
            min_bytes: 500_000_000.0,
            sigmas: 6.0,
            min_ratio: 3.0,
            alpha: 0.1,
            min_samples: 7,
            neighbour_slots: 1,
            cooldown: SignedDuration::from_hours(12),
            allowed_destinations: Vec::new(),
            internal_networks: Vec::new(),
            max_hosts: 20_000,
        }
    }
}

/// The learnt volume of one slot of the day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
struct Baseline {
    mean: f64,
    variance: f64,
    /// Days learnt (saturating).
    samples: u32,
}

impl Baseline {
    /// Folds in one bucket's volume: equal weights for the first `1 / alpha` samples, then
    /// exponential (West's incremental mean and variance).
    fn learn(&mut self, value: f64, alpha: f64) {
        if !value.is_finite() {
            return;
        }
        self.samples = self.samples.saturating_add(1);
        let weight = alpha.max(1.0 / f64::from(self.samples));
        let difference = value - self.mean;
        self.mean += weight * difference;
        self.variance = (1.0 - weight) * (self.variance + weight * difference * difference);
        if !self.mean.is_finite() || !self.variance.is_finite() {
            *self = Self::default();
        }
    }

    /// The volume above which this slot calls a bucket anomalous.
    fn threshold(&self, config: &Settings) -> f64 {
        let spread = self.mean + config.sigmas * self.variance.max(0.0).sqrt();
        spread.max(config.min_ratio * self.mean).max(config.min_bytes)
    }
}

/// The current bucket of one host.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Bucket {
    /// Start, in seconds since the epoch (a multiple of the bucket length).
    start: i64,
    bytes: f64,
    /// The largest contributions: (bytes, event id, event time in seconds), at most
    /// [`MAX_BUCKET_EVIDENCE`].
    events: Vec<(f64, EventId, i64)>,
    /// Bytes per destination address, at most [`MAX_DESTINATIONS`] addresses.
    destinations: Vec<(String, f64)>,
    /// Time of the first event counted, seconds.
    first_event: Option<i64>,
}

/// Everything learnt about one host.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Host {
    /// One baseline per slot of the day.
    slots: Vec<Baseline>,
    bucket: Bucket,
    last_seen: i64,
    last_alert: Option<i64>,
}

/// Everything the detector learns, as saved.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    version: u32,
    /// The bucket length the baselines were learnt with, in seconds: baselines of another
    /// length mean something else and are dropped on restore.
    bucket_secs: u32,
    /// Hosts by source address.
    hosts: Map<Host>,
}

/// The numeric settings, sanitised once.
#[derive(Debug, Clone, Copy)]
struct Settings {
    bucket_secs: i64,
    slots: usize,
    min_bytes: f64,
    sigmas: f64,
    min_ratio: f64,
    alpha: f64,
    min_samples: u32,
    neighbour_slots: usize,
    cooldown: SignedDuration,
    max_hosts: usize,
}

impl Settings {
    fn of(config: &OutboundTransferConfig) -> Self {
        let bucket = config.bucket.as_secs();
        let whole_seconds = config.bucket.subsec_nanos() == 0;
        let bucket_secs = if whole_seconds && bucket >= 60 && SECONDS_PER_DAY % bucket == 0 {
            bucket
        } else {
            let bucket = format!("{:#}", config.bucket);
            tracing::warn!(
                bucket = bucket.as_str(),
                "outbound_transfer: bucket must divide a day; an hour is used"
            );
            3_600
        };
        let sane = |value: f64, fallback: f64| {
            if value.is_finite() && value >= 0.0 { value } else { fallback }
        };
        let alpha = if config.alpha.is_finite() && config.alpha > 0.0 && config.alpha <= 1.0 {
            config.alpha
        } else {
            0.1
        };
        let slots = usize::try_from(SECONDS_PER_DAY / bucket_secs).unwrap_or(24);
        Self {
            bucket_secs,
            slots,
            min_bytes: sane(config.min_bytes, 500_000_000.0),
            sigmas: sane(config.sigmas, 6.0),
            min_ratio: sane(config.min_ratio, 3.0),
            alpha,
            min_samples: config.min_samples.max(1),
            neighbour_slots: usize::try_from(config.neighbour_slots).unwrap_or(0).min(slots / 2),
            cooldown: non_negative(config.cooldown),
            max_hosts: config.max_hosts.max(1),
        }
    }

    fn slot_of(&self, bucket_start: i64) -> usize {
        usize::try_from(bucket_start.rem_euclid(SECONDS_PER_DAY) / self.bucket_secs).unwrap_or(0)
    }
}

/// Raises an alert when a host sends far more data out than its baseline for the time of day.
#[derive(Debug)]
pub struct OutboundTransfer {
    settings: Settings,
    allowed: Vec<Network>,
    internal: Vec<Network>,
    state: State,
}

impl OutboundTransfer {
    /// A detector with `config` and no baseline. Network entries that do not read are skipped
    /// with a warning; a bucket length that does not divide a day is replaced by an hour.
    #[must_use]
    pub fn new(config: OutboundTransferConfig) -> Self {
        let settings = Settings::of(&config);
        let networks = |entries: &[String], setting: &str| -> Vec<Network> {
            entries
                .iter()
                .filter_map(|entry| {
                    let network = Network::parse(entry);
                    if network.is_none() {
                        tracing::warn!(
                            entry = entry.as_str(),
                            setting,
                            "outbound_transfer: network entry skipped"
                        );
                    }
                    network
                })
                .collect()
        };
        let allowed = networks(&config.allowed_destinations, "allowed_destinations");
        let internal = networks(&config.internal_networks, "internal_networks");
        let state = State {
            version: STATE_VERSION,
            bucket_secs: u32::try_from(settings.bucket_secs).unwrap_or(3_600),
            hosts: Map::default(),
        };
        Self { settings, allowed, internal, state }
    }

    fn is_internal(&self, address: IpAddr) -> bool {
        is_internal(address) || self.internal.iter().any(|network| network.contains(address))
    }
}

/// The threshold for a bucket starting at `bucket_start`: the most permissive of the learnt
/// slots around it, or `None` while its own slot is still learning.
fn threshold(slots: &[Baseline], bucket_start: i64, settings: &Settings) -> Option<f64> {
    let slot = settings.slot_of(bucket_start);
    let own = slots.get(slot)?;
    if own.samples < settings.min_samples {
        return None;
    }
    let count = settings.slots;
    let mut threshold = own.threshold(settings);
    for offset in 1..=settings.neighbour_slots {
        for neighbour in [(slot + offset) % count, (slot + count - offset) % count] {
            if let Some(baseline) = slots.get(neighbour)
                && baseline.samples >= settings.min_samples
            {
                threshold = threshold.max(baseline.threshold(settings));
            }
        }
    }
    Some(threshold)
}

/// Closes `host`'s current bucket when `bucket_start` is a later one: its volume goes into its
/// slot, capped at the threshold it was judged against (so one exfiltration does not teach the
/// baseline that such volume is normal, while anything that did not alert is learnt in full),
/// and buckets without traffic in between count as zero (at most one day of them, each slot
/// once).
fn roll(host: &mut Host, bucket_start: i64, settings: &Settings) {
    if bucket_start <= host.bucket.start {
        return;
    }
    let closed_start = host.bucket.start;
    let closed_slot = settings.slot_of(closed_start);
    let mut volume = host.bucket.bytes;
    if let Some(limit) = threshold(&host.slots, closed_start, settings) {
        volume = volume.min(limit);
    }
    if let Some(baseline) = host.slots.get_mut(closed_slot) {
        baseline.learn(volume, settings.alpha);
    }
    let gap = (bucket_start - closed_start) / settings.bucket_secs - 1;
    let empty = usize::try_from(gap.max(0)).unwrap_or(usize::MAX).min(settings.slots);
    for step in 1..=empty {
        let start = closed_start + settings.bucket_secs * i64::try_from(step).unwrap_or(0);
        if let Some(baseline) = host.slots.get_mut(settings.slot_of(start)) {
            baseline.learn(0.0, settings.alpha);
        }
    }
    host.bucket = Bucket { start: bucket_start, ..Bucket::default() };
}

impl Behaviour for OutboundTransfer {
    fn meta(&self) -> &BehaviourMeta {
        &META
    }

    fn wants(&self, event: &Event) -> bool {
        event.get("source.ip").is_some()
            && event.get("destination.ip").is_some()
            && (event.get("source.bytes").is_some() || event.get("network.bytes").is_some())
            // An IDS alert carries its flow's counters so far: the flow record counts them.
            && !has(event, "event.kind", "alert")
    }

    fn observe(&mut self, event: &Event, id: EventId, time: Timestamp) -> Vec<Alert> {
        let Some(source) = ip(event, "source.ip") else { return Vec::new() };
        let Some(destination) = ip(event, "destination.ip") else { return Vec::new() };
        if !self.is_internal(source)
            || self.is_internal(destination)
            || self.allowed.iter().any(|network| network.contains(destination))
        {
            return Vec::new();
        }
        let Some(bytes) = number(event, "source.bytes")
            .or_else(|| number(event, "network.bytes"))
            .filter(|bytes| bytes.is_finite() && *bytes >= 0.0)
            .map(|bytes| bytes.min(MAX_EVENT_BYTES))
        else {
            return Vec::new();
        };
        let settings = self.settings;
        let now = time.as_second();
        let bucket_start = now.div_euclid(settings.bucket_secs) * settings.bucket_secs;
        let source_text = source.to_string();

        if !self.state.hosts.contains_key(&source_text) {
            let host = Host {
                slots: vec![Baseline::default(); settings.slots],
                bucket: Bucket { start: bucket_start, ..Bucket::default() },
                last_seen: now,
                last_alert: None,
            };
            self.state.hosts.insert(source_text.clone(), host);
            evict_least_recent(&mut self.state.hosts, settings.max_hosts, |host| host.last_seen);
        }
        let Some(host) = self.state.hosts.get_mut(&source_text) else { return Vec::new() };
        host.last_seen = host.last_seen.max(now);
        // A record older than the current bucket (a long connection that Zeek logs at its end
        // under its start time) still counts, in the current bucket: its bytes left now or
        // recently, and dropping them would hide exactly the long transfers that matter.
        roll(host, bucket_start, &settings);
        let bucket = &mut host.bucket;
        bucket.bytes = (bucket.bytes + bytes).min(MAX_EVENT_BYTES * 1e3);
        bucket.first_event = Some(bucket.first_event.map_or(now, |first| first.min(now)));
        keep_largest(&mut bucket.events, (bytes, id, now));
        let destination_text = destination.to_string();
        if let Some(entry) =
            bucket.destinations.iter_mut().find(|(name, _)| *name == destination_text)
        {
            entry.1 += bytes;
        } else if bucket.destinations.len() < MAX_DESTINATIONS {
            bucket.destinations.push((destination_text, bytes));
        } else if let Some(smallest) =
            bucket.destinations.iter_mut().min_by(|left, right| left.1.total_cmp(&right.1))
            && smallest.1 < bytes
        {
            // A busy host talks to more destinations than are tallied: a new one that sends
            // more in one record than the smallest tally takes its place, so the destination
            // of a large transfer is not lost behind a crowd of small ones.
            *smallest = (destination_text, bytes);
        }
        // A late record counts in the current bucket, so the bucket judged is that one.
        let bucket_start = bucket.start;

        let cooling = host.last_alert.is_some_and(|last| {
            SignedDuration::from_secs(now.saturating_sub(last)) < settings.cooldown
        });
        let current = host.bucket.bytes;
        let Some(limit) = threshold(&host.slots, bucket_start, &settings) else {
            return Vec::new();
        };
        let over = current > limit;
        if cooling || !over {
            return Vec::new();
        }
        host.last_alert = Some(now);
        let slot = settings.slot_of(bucket_start);
        let usual = host.slots.get(slot).copied().unwrap_or_default();
        let bucket = &host.bucket;
        let mut destinations = bucket.destinations.clone();
        destinations.sort_by(|left, right| right.1.total_cmp(&left.1));
        destinations.truncate(TOP_DESTINATIONS);
        let first = bucket.first_event.unwrap_or(now);
        let first_seen = Timestamp::from_second(first).unwrap_or(time);
        let bucket_time = Timestamp::from_second(bucket_start).unwrap_or(time);
        let listed: Vec<String> = destinations
            .iter()
            .map(|(address, bytes)| format!("{address} {}", size_text(*bytes)))
            .collect();
        let summary = format!(
            "{source_text} sent {} to external addresses in the bucket from {bucket_time} \
             (threshold {}; usually {} ± {} at this time of day over {} days); top \
             destinations: {}",
            size_text(current),
            size_text(limit),
            size_text(usual.mean),
            size_text(usual.variance.max(0.0).sqrt()),
            usual.samples,
            listed.join(", "),
        );
        let mut alert = META.alert(source_text.as_str(), summary, first_seen, time);
        alert.entities.ips.insert(source_text.clone());
        for (address, _) in &destinations {
            alert.entities.ips.insert(address.clone());
        }
        let mut largest = bucket.events.clone();
        largest.sort_by(|left, right| right.0.total_cmp(&left.0));
        alert.add_evidence(largest.iter().map(|(_, id, _)| *id));
        vec![alert]
    }

    fn save_json(&self) -> Box<serde_json::value::RawValue> {
        crate::state_json(META.id, &self.state)
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<()> {
        let mut state: State = serde_json::from_value(state)
            .map_err(|source| crate::Error::State { detector: META.id.to_owned(), source })?;
        let settings = self.settings;
        if i64::from(state.bucket_secs) != settings.bucket_secs {
            tracing::warn!(
                saved = state.bucket_secs,
                configured = settings.bucket_secs,
                "outbound_transfer: bucket length changed; baselines start over"
            );
            state.hosts.clear();
            state.bucket_secs = u32::try_from(settings.bucket_secs).unwrap_or(3_600);
        }
        for host in state.hosts.values_mut() {
            host.slots.resize(settings.slots, Baseline::default());
            host.bucket.events.truncate(MAX_BUCKET_EVIDENCE);
            host.bucket.destinations.truncate(MAX_DESTINATIONS);
        }
        evict_least_recent(&mut state.hosts, settings.max_hosts, |host| host.last_seen);
        self.state = state;
        Ok(())
    }
}

/// Keeps the [`MAX_BUCKET_EVIDENCE`] largest contributions of a bucket.
fn keep_largest(events: &mut Vec<(f64, EventId, i64)>, event: (f64, EventId, i64)) {
    if events.len() < MAX_BUCKET_EVIDENCE {
        events.push(event);
        return;
    }
    let smallest = events
        .iter()
        .enumerate()
        .min_by(|left, right| left.1.0.total_cmp(&right.1.0))
        .map(|(index, entry)| (index, entry.0));
    if let Some((index, bytes)) = smallest
        && event.0 > bytes
        && let Some(slot) = events.get_mut(index)
    {
        *slot = event;
    }
}

/// A byte count for people, in decimal units (`1.2 GB`).
fn size_text(bytes: f64) -> String {
    let bytes = if bytes.is_finite() { bytes.max(0.0) } else { 0.0 };
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes;
    let mut unit = 0;
    while value >= 1_000.0 && unit + 1 < UNITS.len() {
        value /= 1_000.0;
        unit += 1;
    }
    if unit == 0 { format!("{value:.0} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use palisade_event::Value;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    const HOUR: i64 = 3_600;
    const DAY: i64 = 86_400;
    const MB: f64 = 1e6;
    const GB: f64 = 1e9;
    /// 2025-03-03T00:00:00Z, a Monday.
    const START: i64 = 1_740_960_000;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).expect("valid time")
    }

    /// A flow record as Suricata or Zeek gives it.
    fn flow(source: &str, destination: &str, sent: f64) -> Event {
        Event::from_fields(vec![
            ("event.category".into(), Value::List(vec![Value::from("network")])),
            ("event.type".into(), Value::List(vec![Value::from("connection")])),
            ("source.ip".into(), Value::from(source)),
            ("destination.ip".into(), Value::from(destination)),
            ("destination.port".into(), Value::Int(443)),
            ("source.bytes".into(), Value::Int(sent as i64)),
            ("destination.bytes".into(), Value::Int((sent / 3.0) as i64)),
            ("network.bytes".into(), Value::Int((sent * 4.0 / 3.0) as i64)),
        ])
    }

    struct Script {
        events: Vec<(i64, Event, &'static str)>,
    }

    impl Script {
        fn new() -> Self {
            Self { events: Vec::new() }
        }

        /// `bytes` sent from `source` to `destination` within the hour starting at
        /// `hour_start`, in a few flows at random minutes.
        fn hour(
            &mut self,
            rng: &mut StdRng,
            hour_start: i64,
            source: &str,
            destination: &str,
            bytes: f64,
            label: &'static str,
        ) {
            let flows = rng.random_range(1..6);
            for _ in 0..flows {
                let time = hour_start + rng.random_range(0..HOUR);
                self.events.push((
                    time,
                    flow(source, destination, bytes / f64::from(flows)),
                    label,
                ));
            }
        }
    }

    struct Outcome {
        alerts: Vec<Alert>,
        ids_by_label: HashMap<&'static str, Vec<EventId>>,
    }

    fn run(detector: &mut OutboundTransfer, mut script: Script, first_id: EventId) -> Outcome {
        script.events.sort_by_key(|(time, ..)| *time);
        let mut alerts = Vec::new();
        let mut ids_by_label: HashMap<&'static str, Vec<EventId>> = HashMap::new();
        for (index, (time, event, label)) in script.events.iter().enumerate() {
            let id = first_id + index as EventId;
            ids_by_label.entry(label).or_default().push(id);
            if detector.wants(event) {
                alerts.extend(detector.observe(event, id, at(*time)));
            }
        }
        Outcome { alerts, ids_by_label }
    }

    /// An office day for one workstation: tens of megabytes an hour during work, a trickle at
    /// night.
    fn office_volume(rng: &mut StdRng, hour_of_day: i64, scale: f64) -> f64 {
        let base = if (8..18).contains(&hour_of_day) {
            rng.random_range(20.0 * MB..120.0 * MB)
        } else {
            rng.random_range(0.0..4.0 * MB)
        };
        base * scale
    }

    /// Fourteen days of ten hosts. Background: office workstations sending tens of megabytes
    /// an hour by day to many sites. Look-alikes: a file server whose backup job sends 3 to 6 GB
    /// every night to an off-site store, starting between 01:40 and 02:20 so it straddles the
    /// hour; a build server whose uploads grow by 4 % a day (from 300 MB an hour); a host that
    /// uploads 2 GB on its very first day, during learning. The attack: on day 12 at 14:00,
    /// workstation 10.0.0.4 sends 2.5 GB to one address in an hour.
    #[test]
    fn scenario_fires_on_the_exfiltration_only() {
        let mut rng = StdRng::seed_from_u64(0x0B7_7EA5);
        let mut script = Script::new();
        let sites: Vec<String> =
            (0..60).map(|n| format!("93.184.{}.{}", n / 30, n % 30 + 1)).collect();
        let exfil_hour = START + 12 * DAY + 14 * HOUR;
        for day in 0..14 {
            for hour_of_day in 0..24 {
                let hour_start = START + day * DAY + hour_of_day * HOUR;
                for n in 1..=6 {
                    let host = format!("10.0.0.{n}");
                    let site = &sites[rng.random_range(0..sites.len())];
                    let volume = office_volume(&mut rng, hour_of_day, 1.0);
                    script.hour(&mut rng, hour_start, &host, site, volume, "office");
                }
                // The build server: steady uploads all day, slowly growing.
                let growth = 1.04_f64.powi(i32::try_from(day).expect("small"));
                let volume = rng.random_range(250.0 * MB..350.0 * MB) * growth;
                script.hour(&mut rng, hour_start, "10.0.0.8", "140.82.112.4", volume, "build");
                // Internal traffic of any size is not outbound.
                script.hour(&mut rng, hour_start, "10.0.0.5", "10.0.0.200", 9.0 * GB, "internal");
            }
            // The nightly backup, in chunks of a few hundred megabytes from its start.
            let mut time = START + day * DAY + HOUR + 40 * 60 + rng.random_range(0..40 * 60);
            let mut left = rng.random_range(3.0 * GB..6.0 * GB);
            while left > 0.0 {
                let chunk = left.min(300.0 * MB);
                script.events.push((time, flow("10.0.0.9", "185.12.40.8", chunk), "backup"));
                left -= chunk;
                time += 90;
            }
        }
        // A host new to the network uploading a lot on day one: still learning, no alert.
        script.hour(&mut rng, START + 10 * HOUR, "10.0.0.10", "203.0.113.99", 2.0 * GB, "newcomer");
        // The exfiltration.
        for chunk in 0..5 {
            let time = exfil_hour + 600 + chunk * 420;
            script.events.push((time, flow("10.0.0.4", "198.51.100.66", 500.0 * MB), "exfil"));
        }

        let mut detector = OutboundTransfer::new(OutboundTransferConfig::default());
        let outcome = run(&mut detector, script, 1);
        assert_eq!(outcome.alerts.len(), 1, "{:#?}", outcome.alerts);
        let alert = &outcome.alerts[0];
        assert_eq!(alert.rule_id, "palisade.outbound_transfer");
        assert_eq!(alert.group, "10.0.0.4");
        assert_eq!(alert.severity, Severity::High);
        assert!(alert.entities.ips.contains("10.0.0.4"));
        assert!(alert.entities.ips.contains("198.51.100.66"));
        let exfil = &outcome.ids_by_label["exfil"];
        // It fires within the hour, once the running sum passes the floor: the first exfil
        // chunks are its largest evidence.
        assert!(alert.evidence.len() >= 2, "{:?}", alert.evidence);
        assert!(exfil.contains(&alert.evidence[0]), "{:?}", alert.evidence);
        assert!(alert.last_seen >= at(exfil_hour) && alert.last_seen < at(exfil_hour + HOUR));
        assert!(alert.first_seen >= at(exfil_hour));
        assert!(alert.summary.contains("198.51.100.66"), "{}", alert.summary);
    }

    /// A nightly backup of 4 GB is learnt by its hour's baseline, and when daylight saving time
    /// moves it an hour earlier in UTC, the neighbouring slot's baseline keeps it normal.
    /// Without neighbours the moved job alerts; with its destination allow-listed nothing
    /// counts.
    #[test]
    fn the_nightly_backup_is_learnt_per_hour_of_day() {
        let backup_nights = |rng: &mut StdRng, days: i64, drift: bool| {
            let mut script = Script::new();
            for day in 0..days {
                for hour_of_day in 0..24 {
                    let hour_start = START + day * DAY + hour_of_day * HOUR;
                    let volume = office_volume(rng, hour_of_day, 1.0);
                    script.hour(rng, hour_start, "10.0.0.9", "93.184.0.1", volume, "office");
                }
                // Daylight saving time: from day 10, the job runs an hour earlier in UTC.
                let hour = if drift && day >= 10 { 1 } else { 2 };
                let start = START + day * DAY + hour * HOUR + 300;
                for chunk in 0..10 {
                    let time = start + chunk * 120;
                    script.events.push((
                        time,
                        flow("10.0.0.9", "185.12.40.8", 400.0 * MB),
                        "backup",
                    ));
                }
            }
            script
        };
        let mut rng = StdRng::seed_from_u64(7);
        let mut detector = OutboundTransfer::new(OutboundTransferConfig::default());
        assert!(run(&mut detector, backup_nights(&mut rng, 14, true), 1).alerts.is_empty());

        // Without the neighbouring slots, the hour the job moves into has never seen it: the
        // first drifted night alerts (and the next few, until that hour has learnt the job).
        let mut rng = StdRng::seed_from_u64(7);
        let config = OutboundTransferConfig { neighbour_slots: 0, ..Default::default() };
        let mut detector = OutboundTransfer::new(config);
        let outcome = run(&mut detector, backup_nights(&mut rng, 14, true), 1);
        assert!(!outcome.alerts.is_empty());
        let first = &outcome.alerts[0];
        assert_eq!(first.group, "10.0.0.9");
        assert!(first.last_seen >= at(START + 10 * DAY + HOUR), "{first:#?}");
        assert!(first.last_seen < at(START + 10 * DAY + 2 * HOUR), "{first:#?}");
        let backup = &outcome.ids_by_label["backup"];
        assert!(outcome.alerts.iter().all(|alert| alert_evidence_within(alert, backup)));
        // Without the drift, the job is normal at its hour even without neighbours.
        let mut rng = StdRng::seed_from_u64(7);
        let config = OutboundTransferConfig { neighbour_slots: 0, ..Default::default() };
        let mut detector = OutboundTransfer::new(config);
        assert!(run(&mut detector, backup_nights(&mut rng, 14, false), 1).alerts.is_empty());
        // And an allow-listed destination is never counted.
        let mut rng = StdRng::seed_from_u64(7);
        let config = OutboundTransferConfig {
            neighbour_slots: 0,
            allowed_destinations: vec!["185.12.40.0/24".into()],
            ..Default::default()
        };
        let mut detector = OutboundTransfer::new(config);
        assert!(run(&mut detector, backup_nights(&mut rng, 14, true), 1).alerts.is_empty());
    }

    fn alert_evidence_within(alert: &Alert, ids: &[EventId]) -> bool {
        !alert.evidence.is_empty() && alert.evidence.iter().all(|id| ids.contains(id))
    }

    #[test]
    fn baseline_learns_like_a_mean_and_variance() {
        let mut baseline = Baseline::default();
        for value in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
            baseline.learn(value, 0.1);
        }
        // Equal weights over the first ten samples: the population mean and variance.
        assert!((baseline.mean - 5.0).abs() < 1e-9, "{baseline:?}");
        assert!((baseline.variance - 4.0).abs() < 1e-9, "{baseline:?}");
        baseline.learn(f64::NAN, 0.1);
        assert_eq!(baseline.samples, 8);
    }

    #[test]
    fn save_and_restore_keep_the_baseline() {
        let mut rng = StdRng::seed_from_u64(99);
        let mut learning = Script::new();
        for day in 0..8 {
            for hour_of_day in 0..24 {
                let hour_start = START + day * DAY + hour_of_day * HOUR;
                let volume = office_volume(&mut rng, hour_of_day, 1.0);
                learning.hour(&mut rng, hour_start, "10.0.0.4", "93.184.0.1", volume, "office");
            }
        }
        let mut first = OutboundTransfer::new(OutboundTransferConfig::default());
        assert!(run(&mut first, learning, 1).alerts.is_empty());
        let saved = serde_json::to_string(&first.save()).expect("state serialises");

        let attack = || {
            let mut script = Script::new();
            let hour_start = START + 8 * DAY + 15 * HOUR;
            script.events.push((hour_start + 60, flow("10.0.0.4", "93.184.0.1", 30.0 * MB), "x"));
            script.events.push((
                hour_start + 120,
                flow("10.0.0.4", "198.51.100.66", 1.5 * GB),
                "x",
            ));
            script
        };
        let mut restored = OutboundTransfer::new(OutboundTransferConfig::default());
        restored.restore(serde_json::from_str(&saved).expect("state parses")).expect("restores");
        assert_eq!(run(&mut restored, attack(), 10_000).alerts.len(), 1);
        // A fresh detector has no baseline: the same hour is still learning.
        let mut fresh = OutboundTransfer::new(OutboundTransferConfig::default());
        assert!(run(&mut fresh, attack(), 10_000).alerts.is_empty());

        // Another bucket length makes the saved baselines meaningless: they are dropped.
        let mut other = OutboundTransfer::new(OutboundTransferConfig {
            bucket: SignedDuration::from_mins(30),
            ..Default::default()
        });
        other.restore(serde_json::from_str(&saved).expect("state parses")).expect("restores");
        assert!(other.state.hosts.is_empty());

        let error = OutboundTransfer::new(OutboundTransferConfig::default())
            .restore(serde_json::json!({"version": 1, "hosts": 5}))
            .expect_err("bad state is refused");
        assert!(matches!(error, crate::Error::State { .. }));
    }

    #[test]
    fn cooldown_and_bounds() {
        // Without neighbours: with them, each hour of the transfer, learnt (capped) into its
        // slot, raises the next hour's threshold, which would hide what the cool-down does.
        let mut detector = OutboundTransfer::new(OutboundTransferConfig {
            min_samples: 1,
            neighbour_slots: 0,
            cooldown: SignedDuration::from_hours(6),
            ..Default::default()
        });
        let mut alerts = Vec::new();
        // One day of nothing much, then ten hours of 1 GB an hour.
        for hour in 0..24 {
            let event = flow("10.0.0.4", "93.184.0.1", MB);
            alerts.extend(detector.observe(&event, 1, at(START + hour * HOUR)));
        }
        for hour in 24..34 {
            let event = flow("10.0.0.4", "198.51.100.66", GB);
            alerts.extend(detector.observe(&event, 2, at(START + hour * HOUR + 10)));
        }
        // Hours 24 and 30 (the cool-down ends after six hours).
        assert_eq!(alerts.len(), 2, "{alerts:#?}");

        let mut detector =
            OutboundTransfer::new(OutboundTransferConfig { max_hosts: 50, ..Default::default() });
        for n in 0..2_000_u32 {
            let source = format!("10.{}.{}.1", n / 250, n % 250);
            let event = flow(&source, "198.51.100.66", MB);
            detector.observe(&event, u64::from(n), at(START + i64::from(n)));
        }
        assert!(detector.state.hosts.len() <= 50);

        let mut events = Vec::new();
        for n in 0..500_u32 {
            keep_largest(&mut events, (f64::from(n % 250), u64::from(n), 0));
        }
        assert_eq!(events.len(), MAX_BUCKET_EVIDENCE);
        assert!(events.iter().all(|(bytes, ..)| *bytes >= 234.0), "{events:?}");
    }

    #[test]
    fn late_records_and_crowded_destinations() {
        let mut detector = OutboundTransfer::new(OutboundTransferConfig {
            min_samples: 1,
            neighbour_slots: 0,
            ..Default::default()
        });
        let mut alerts = Vec::new();
        // A day of quiet, then a busy hour with many small destinations.
        for hour in 0..24 {
            let event = flow("10.0.0.4", "93.184.0.1", MB);
            alerts.extend(detector.observe(&event, 1, at(START + hour * HOUR)));
        }
        let busy = START + DAY + 9 * HOUR;
        for n in 0..100 {
            let event = flow("10.0.0.4", &format!("93.184.1.{n}"), MB);
            alerts.extend(detector.observe(&event, 2, at(busy + n)));
        }
        assert!(alerts.is_empty());
        // A long upload that Zeek logs at its end under its start time, in the previous hour.
        let event = flow("10.0.0.4", "198.51.100.66", 2.0 * GB);
        alerts.extend(detector.observe(&event, 3, at(busy - 50 * 60)));
        assert_eq!(alerts.len(), 1, "{alerts:#?}");
        assert!(alerts[0].entities.ips.contains("198.51.100.66"), "{alerts:#?}");
        assert_eq!(alerts[0].evidence.first(), Some(&3));
    }

    #[test]
    fn odd_input_does_not_panic() {
        let mut detector = OutboundTransfer::new(OutboundTransferConfig {
            bucket: SignedDuration::from_secs(7),
            min_bytes: f64::NAN,
            sigmas: f64::INFINITY,
            alpha: -1.0,
            min_samples: 0,
            neighbour_slots: u32::MAX,
            allowed_destinations: vec!["nonsense".into()],
            ..Default::default()
        });
        assert_eq!(detector.settings.bucket_secs, 3_600);
        for (n, bytes) in
            [Value::Float(f64::NAN), Value::Float(-5.0), Value::Float(1e300), Value::from("lots")]
                .into_iter()
                .enumerate()
        {
            let event = Event::from_fields(vec![
                ("source.ip".into(), Value::from("10.0.0.1")),
                ("destination.ip".into(), Value::from("198.51.100.1")),
                ("source.bytes".into(), bytes),
            ]);
            let time = at(START + i64::try_from(n).expect("small") * DAY);
            let _ = detector.observe(&event, 1, time);
        }
        // An IDS alert about a flow repeats the flow's counters: not counted twice.
        let mut alert = flow("10.0.0.1", "198.51.100.1", 9.0 * GB);
        alert.insert("event.kind", Value::from("alert"));
        assert!(!detector.wants(&alert));
        assert!(detector.wants(&flow("10.0.0.1", "198.51.100.1", 9.0 * GB)));
        let saved = detector.save();
        assert!(!saved.is_null());
        detector.restore(saved).expect("state round-trips");
        // Time going backwards does not panic either.
        let _ = detector.observe(&flow("10.0.0.1", "198.51.100.1", MB), 2, at(START - 10 * DAY));
    }
}
