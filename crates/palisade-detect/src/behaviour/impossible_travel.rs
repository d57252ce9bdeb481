//! The `palisade.impossible_travel` detector: two successful logins of one user from places
//! too far apart for the time between them.
//!
//! A user who logs in from Chicago and, forty minutes later, from Moscow is not travelling:
//! someone else has the credentials, or the session ([T1078], valid accounts). The detector
//! keeps each user's last few geolocated logins (`source.geo.location.lat`/`.lon`, added by
//! GeoIP enrichment) and compares every new one with them: the great-circle (haversine)
//! distance divided by the time between the two is the speed the user would have needed.
//!
//! GeoIP is coarse: two addresses of one city can be placed a hundred kilometres apart, and a
//! country-level match sits at the country's centre. Distances under a floor are therefore
//! never a finding, however short the time. Logins without coordinates (private addresses,
//! no database) are skipped. Documentation: `docs/detectors/impossible_travel.md`.
//!
//! [T1078]: https://attack.mitre.org/techniques/T1078/

use jiff::{SignedDuration, Timestamp};
use palisade_event::Event;
use serde::{Deserialize, Serialize};

use super::login::is_success;
use super::util::{self, Map, drop_least_recent, non_negative, number, text, within};
use super::{Behaviour, BehaviourMeta, Seen};
use crate::{Alert, EventId, Result, Severity};

static META: BehaviourMeta = BehaviourMeta {
    id: "palisade.impossible_travel",
    title: "Impossible travel between two logins",
    severity: Severity::High,
    attack: &["T1078"],
};

/// The version of the saved state; a state of another version does not decode.
const STATE_VERSION: u32 = 1;

/// The mean Earth radius (IUGG), in kilometres.
const EARTH_RADIUS_KM: f64 = 6_371.008_8;

/// Half the Earth's circumference: no two places are farther apart, so a login older than
/// this distance at the maximum speed can never make a later one impossible.
const HALF_CIRCUMFERENCE_KM: f64 = std::f64::consts::PI * EARTH_RADIUS_KM;

/// Settings of `[detect.behaviour.impossible_travel]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImpossibleTravelConfig {
    /// The highest plausible speed between two logins, in km/h. An airliner cruises at about
    /// 900; door to door, with airports, nobody is faster.
    pub max_speed_kmh: f64,
    /// Distances below this, in km, are never a finding: GeoIP places one city's addresses
    /// up to a few hundred kilometres apart, and mobile networks exit far from the user.
    pub min_distance_km: f64,
    /// After an alert for a user, no new alert for them until this much event time has
    /// passed: the attacker's logins and the owner's next ones are all part of one finding.
    #[serde(deserialize_with = "util::duration::deserialize")]
    pub cooldown: SignedDuration,
    /// Logins from these autonomous systems (`source.as.number`) are skipped: your own VPN or
    /// a cloud proxy (Zscaler, iCloud Private Relay) that moves users' apparent location.
    pub exempt_asns: Vec<u32>,
    /// At most this many recent logins are kept per user to compare a new one with.
    pub history: usize,
    /// At most this many users are followed; past it the least recently seen are forgotten.
    pub max_tracked: usize,
}

impl Default for ImpossibleTravelConfig {
    fn default() -> Self {
        Self {
            max_speed_kmh: 900.0,
            min_distance_km: 500.0,
            cooldown: SignedDuration::from_hours(12),
            exempt_asns: Vec::new(),
            history: 4,
            max_tracked: 50_000,
        }
    }
}

/// Raises an alert when a user logs in from two places that nobody could travel between in
/// the time between the logins.
#[derive(Debug)]
pub struct ImpossibleTravel {
    config: ImpossibleTravelConfig,
    state: State,
}

/// Everything learnt, as saved.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    version: u32,
    /// Keyed by lower-cased user name.
    users: Map<Trail>,
}

/// One user's recent geolocated logins.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Trail {
    /// Oldest first, at most `history`.
    logins: Vec<Place>,
    /// Event time of the last alert about this user, for the cool-down.
    last_alert: Option<Timestamp>,
}

impl Trail {
    fn last_seen(&self) -> Option<Timestamp> {
        self.logins.iter().map(|login| login.time).max()
    }
}

/// Where and when one login came from.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Place {
    time: Timestamp,
    id: EventId,
    lat: f64,
    lon: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    host: Option<String>,
}

impl Place {
    /// "Moscow, RU (203.0.113.9)", with whatever is known.
    fn describe(&self) -> String {
        let mut name = [self.city.as_deref(), self.country.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ");
        if name.is_empty() {
            name = format!("{:.2}, {:.2}", self.lat, self.lon);
        }
        match &self.ip {
            Some(ip) => format!("{name} ({ip})"),
            None => name,
        }
    }
}

/// The great-circle distance between two points, in km (haversine formula).
fn distance_km(from: &Place, to: &Place) -> f64 {
    let (lat1, lat2) = (from.lat.to_radians(), to.lat.to_radians());
    let dlat = lat2 - lat1;
    let dlon = (to.lon - from.lon).to_radians();
    let a = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
}

impl ImpossibleTravel {
    /// A detector with these settings.
    #[must_use]
    pub fn new(config: ImpossibleTravelConfig) -> Self {
        Self { config, state: State { version: STATE_VERSION, ..State::default() } }
    }

    fn max_speed(&self) -> f64 {
        let speed = self.config.max_speed_kmh;
        if speed.is_finite() && speed > 0.0 { speed } else { 900.0 }
    }

    fn min_distance(&self) -> f64 {
        let distance = self.config.min_distance_km;
        if distance.is_finite() && distance >= 0.0 { distance } else { 500.0 }
    }

    /// How long a login stays worth comparing with: after that, any place on Earth was
    /// reachable.
    fn horizon(&self) -> SignedDuration {
        let hours = HALF_CIRCUMFERENCE_KM / self.max_speed();
        SignedDuration::try_from_secs_f64(hours * 3_600.0)
            .unwrap_or(SignedDuration::from_hours(24 * 365))
    }

    fn record(&mut self, user: String, place: Place) -> Vec<Alert> {
        let max_speed = self.max_speed();
        let min_distance = self.min_distance();
        let horizon = self.horizon();
        let cooldown = non_negative(self.config.cooldown);
        let history = self.config.history.max(1);
        let time = place.time;

        let trail = self.state.users.entry(user.clone()).or_default();
        trail.logins.retain(|earlier| within(time, earlier.time, horizon));

        // The fastest of the journeys from (or to) the recent logins.
        let fastest = trail
            .logins
            .iter()
            .filter_map(|earlier| {
                let distance = distance_km(earlier, &place);
                if distance.is_nan() || distance < min_distance {
                    return None;
                }
                let hours = time.duration_since(earlier.time).abs().as_secs_f64() / 3_600.0;
                let speed = if hours > 0.0 { distance / hours } else { f64::INFINITY };
                (speed > max_speed).then_some((speed, distance, earlier))
            })
            .max_by(|left, right| left.0.total_cmp(&right.0));

        let cooling = trail.last_alert.is_some_and(|at| at <= time && within(time, at, cooldown));
        let mut alerts = Vec::new();
        if let Some((speed, distance, earlier)) = fastest
            && !cooling
        {
            alerts.push(travel_alert(&user, earlier, &place, distance, speed));
            trail.last_alert = Some(time);
        }

        trail.logins.push(place);
        trail.logins.sort_by_key(|login| (login.time, login.id));
        if trail.logins.len() > history {
            let excess = trail.logins.len() - history;
            trail.logins.drain(..excess);
        }
        self.forget(time);
        alerts
    }

    /// Keeps the map within `max_tracked`: users whose logins are all past the horizon go
    /// first, then the least recently seen.
    fn forget(&mut self, now: Timestamp) {
        let max = self.config.max_tracked.max(1);
        if self.state.users.len() <= max {
            return;
        }
        let keep_for = self.horizon().max(non_negative(self.config.cooldown));
        let map = &mut self.state.users;
        map.retain(|_, trail| trail.last_seen().is_some_and(|seen| within(now, seen, keep_for)));
        if map.len() > max {
            // Down to 90% at once, so that eviction is paid for once per many events.
            drop_least_recent(map, max - max / 10, Trail::last_seen);
        }
    }
}

fn travel_alert(user: &str, earlier: &Place, later: &Place, distance: f64, speed: f64) -> Alert {
    let (first, second) = if (earlier.time, earlier.id) <= (later.time, later.id) {
        (earlier, later)
    } else {
        (later, earlier)
    };
    let gap = second.time.duration_since(first.time);
    let speed = if speed.is_finite() { format!("{speed:.0} km/h") } else { "at once".to_owned() };
    let summary = format!(
        "{user} logged in from {} and {:#} later from {}: {distance:.0} km apart ({speed})",
        first.describe(),
        gap,
        second.describe(),
    );
    let mut alert = META.alert(user, summary, first.time, second.time);
    alert.entities.users.insert(user.to_owned());
    for place in [first, second] {
        if let Some(ip) = &place.ip {
            alert.entities.ips.insert(ip.clone());
        }
        if let Some(host) = &place.host {
            alert.entities.hosts.insert(host.clone());
        }
    }
    alert.add_evidence([first.id, second.id]);
    alert
}

impl Behaviour for ImpossibleTravel {
    fn meta(&self) -> &BehaviourMeta {
        &META
    }

    fn wants(&self, event: &Event) -> bool {
        event.get("source.geo.location.lat").is_some() && is_success(event)
    }

    fn wants_seen(&self, seen: &Seen<'_>) -> bool {
        seen.event().get("source.geo.location.lat").is_some() && seen.login().success
    }

    fn observe(&mut self, event: &Event, id: EventId, time: Timestamp) -> Vec<Alert> {
        self.observe_seen(&Seen::new(event), id, time)
    }

    fn observe_seen(&mut self, seen: &Seen<'_>, id: EventId, time: Timestamp) -> Vec<Alert> {
        // The user, host and address as the login facts, shared with the other login
        // detectors, already read them.
        let (event, facts) = (seen.event(), seen.login());
        if !facts.success {
            return Vec::new();
        }
        let Some(user) = facts.user.as_deref().map(str::to_owned) else { return Vec::new() };
        let Some((lat, lon)) = location(event) else { return Vec::new() };
        let asn = number(event, "source.as.number");
        if asn.is_some_and(|asn| {
            self.config.exempt_asns.iter().any(|exempt| f64::from(*exempt) == asn)
        }) {
            return Vec::new();
        }
        let ip = facts.source.as_deref().map(str::to_owned);
        let place = Place {
            time,
            id,
            lat,
            lon,
            ip,
            city: text(event, "source.geo.city_name").map(|city| city.trim().to_owned()),
            country: text(event, "source.geo.country_iso_code")
                .map(|code| code.trim().to_ascii_uppercase()),
            host: facts.host.as_deref().map(str::to_owned),
        };
        self.record(user, place)
    }

    fn save_json(&self) -> Box<serde_json::value::RawValue> {
        crate::state_json(META.id, &self.state)
    }

    fn restore(&mut self, state: serde_json::Value) -> Result<()> {
        let error = |source| crate::Error::State { detector: META.id.to_owned(), source };
        let state: State = serde_json::from_value(state).map_err(error)?;
        if state.version != STATE_VERSION {
            return Err(error(serde::de::Error::custom(format!(
                "state version {} is not {STATE_VERSION}",
                state.version
            ))));
        }
        self.state = state;
        let history = self.config.history.max(1);
        for trail in self.state.users.values_mut() {
            trail.logins.retain(|login| valid_location(login.lat, login.lon));
            if trail.logins.len() > history {
                let excess = trail.logins.len() - history;
                trail.logins.drain(..excess);
            }
        }
        let newest = self.state.users.values().filter_map(Trail::last_seen).max();
        if let Some(newest) = newest {
            self.forget(newest);
        }
        Ok(())
    }
}

/// The source's coordinates, when they are real ones: finite, in range, and not (0, 0),
/// where broken lookups put addresses they cannot place.
fn location(event: &Event) -> Option<(f64, f64)> {
    let lat = number(event, "source.geo.location.lat")?;
    let lon = number(event, "source.geo.location.lon")?;
    valid_location(lat, lon).then_some((lat, lon))
}

fn valid_location(lat: f64, lon: f64) -> bool {
    (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) && !(lat == 0.0 && lon == 0.0)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use palisade_event::Value;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    const START: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(START + seconds).unwrap()
    }

    /// (city, country, lat, lon)
    const CITIES: &[(&str, &str, f64, f64)] = &[
        ("Chicago", "US", 41.8781, -87.6298),
        ("New York", "US", 40.7128, -74.0060),
        ("London", "GB", 51.5072, -0.1276),
        ("Paris", "FR", 48.8566, 2.3522),
        ("Frankfurt", "DE", 50.1109, 8.6821),
        ("Madrid", "ES", 40.4168, -3.7038),
        ("Toronto", "CA", 43.6532, -79.3832),
        ("Sydney", "AU", -33.8688, 151.2093),
        ("Tokyo", "JP", 35.6762, 139.6503),
        ("Sao Paulo", "BR", -23.5505, -46.6333),
        ("Brussels", "BE", 50.8503, 4.3517),
        ("Amsterdam", "NL", 52.3676, 4.9041),
        ("Moscow", "RU", 55.7558, 37.6173),
    ];

    fn city(name: &str) -> (&'static str, &'static str, f64, f64) {
        *CITIES.iter().find(|city| city.0 == name).unwrap()
    }

    /// A successful sshd login from an enriched public address.
    fn login(user: &str, ip: &str, place: (&str, &str, f64, f64)) -> Event {
        let (city, country, lat, lon) = place;
        Event::from_fields(vec![
            ("event.category".into(), Value::List(vec![Value::from("authentication")])),
            ("event.outcome".into(), Value::from("success")),
            ("user.name".into(), Value::from(user)),
            ("source.ip".into(), Value::from(ip)),
            ("source.geo.city_name".into(), Value::from(city)),
            ("source.geo.country_iso_code".into(), Value::from(country)),
            ("source.geo.location.lat".into(), Value::Float(lat)),
            ("source.geo.location.lon".into(), Value::Float(lon)),
            ("host.name".into(), Value::from("vpn01")),
        ])
    }

    /// A successful login from a private address: no coordinates.
    fn private_login(user: &str, ip: &str) -> Event {
        Event::from_fields(vec![
            ("event.category".into(), Value::from("authentication")),
            ("event.outcome".into(), Value::from("success")),
            ("user.name".into(), Value::from(user)),
            ("source.ip".into(), Value::from(ip)),
            ("source.geo.name".into(), Value::from("private")),
        ])
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    enum Label {
        Background,
        Attack,
        RealTrip,
        Private,
        SameCity,
        Neighbours,
    }

    fn run(
        mut events: Vec<(i64, Event, Label)>,
        detector: &mut ImpossibleTravel,
    ) -> (Vec<Alert>, Vec<Label>) {
        events.sort_by_key(|(seconds, _, _)| *seconds);
        let mut alerts = Vec::new();
        let mut labels = Vec::new();
        for (id, (seconds, event, label)) in events.into_iter().enumerate() {
            labels.push(label);
            if detector.wants(&event) {
                alerts.extend(detector.observe(&event, id as EventId, at(seconds)));
            }
        }
        (alerts, labels)
    }

    /// A jitter of up to about ±0.3° (30 km): how GeoIP scatters one city's addresses.
    fn near(
        rng: &mut StdRng,
        place: (&'static str, &'static str, f64, f64),
    ) -> (&'static str, &'static str, f64, f64) {
        (
            place.0,
            place.1,
            place.2 + rng.random_range(-0.3..0.3),
            place.3 + rng.random_range(-0.3..0.3),
        )
    }

    fn week(seed: u64) -> Vec<(i64, Event, Label)> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut events = Vec::new();
        // Everyday logins: each user from their home city, from a few addresses.
        for user_idx in 0..40 {
            let user = format!("user{user_idx}");
            let home = CITIES[user_idx % 10];
            for day in 0..7 {
                for _ in 0..rng.random_range(1..6) {
                    let when = day * 86_400 + rng.random_range(25_000..70_000);
                    let ip = format!("198.51.{}.{}", user_idx, rng.random_range(1..4));
                    events.push((when, login(&user, &ip, near(&mut rng, home)), Label::Background));
                }
            }
        }
        // Look-alike: a real trip, Frankfurt to Tokyo (9,350 km) with twelve hours between
        // the logins: 780 km/h.
        events.push((100_000, login("frank", "192.0.2.10", city("Frankfurt")), Label::RealTrip));
        events.push((143_200, login("frank", "203.0.113.80", city("Tokyo")), Label::RealTrip));
        // Look-alike: logins from the office's private addresses between public ones.
        for step in 0..6 {
            events.push((
                200_000 + step * 600,
                private_login("priya", &format!("10.0.0.{step}")),
                Label::Private,
            ));
        }
        events.push((199_000, login("priya", "192.0.2.20", city("Madrid")), Label::Private));
        events.push((204_000, login("priya", "192.0.2.21", city("Madrid")), Label::Private));
        // Look-alike: one city, two providers, a minute apart.
        events.push((300_000, login("sam", "192.0.2.30", city("London")), Label::SameCity));
        events.push((
            300_060,
            login("sam", "198.18.0.30", near(&mut rng, city("London"))),
            Label::SameCity,
        ));
        // Look-alike: Brussels, then Amsterdam (175 km) five minutes later: fast, but below
        // what GeoIP can tell apart.
        events.push((400_000, login("nina", "192.0.2.40", city("Brussels")), Label::Neighbours));
        events.push((400_300, login("nina", "192.0.2.41", city("Amsterdam")), Label::Neighbours));
        // Attack: alice works from Chicago; forty minutes after her morning login, her account
        // logs in from Moscow, and keeps doing so; she logs in again from Chicago.
        events.push((450_000, login("alice", "192.0.2.50", city("Chicago")), Label::Attack));
        events.push((452_400, login("alice", "203.0.113.66", city("Moscow")), Label::Attack));
        events.push((453_000, login("alice", "203.0.113.66", city("Moscow")), Label::Attack));
        events.push((455_000, login("Alice", "192.0.2.50", city("Chicago")), Label::Attack));
        events
    }

    #[test]
    fn fires_on_the_impossible_journey_only() {
        for seed in [11, 12, 13] {
            let mut detector = ImpossibleTravel::new(ImpossibleTravelConfig::default());
            let (alerts, labels) = run(week(seed), &mut detector);
            assert_eq!(alerts.len(), 1, "seed {seed}: {alerts:#?}");
            let alert = &alerts[0];
            assert_eq!(alert.rule_id, "palisade.impossible_travel");
            assert_eq!(alert.group, "alice");
            assert_eq!(alert.entities.users, BTreeSet::from(["alice".to_owned()]));
            assert_eq!(
                alert.entities.ips,
                BTreeSet::from(["192.0.2.50".to_owned(), "203.0.113.66".to_owned()])
            );
            assert_eq!(alert.evidence.len(), 2);
            assert!(alert.evidence.iter().all(|id| labels[*id as usize] == Label::Attack));
            assert_eq!((alert.first_seen, alert.last_seen), (at(450_000), at(452_400)));
            assert!(alert.summary.contains("Chicago, US (192.0.2.50)"), "{}", alert.summary);
            assert!(alert.summary.contains("Moscow, RU"), "{}", alert.summary);
        }
    }

    #[test]
    fn distance_is_the_great_circle() {
        let place = |lat, lon| Place {
            time: at(0),
            id: 0,
            lat,
            lon,
            ip: None,
            city: None,
            country: None,
            host: None,
        };
        let (_, _, lat1, lon1) = city("London");
        let (_, _, lat2, lon2) = city("New York");
        let distance = distance_km(&place(lat1, lon1), &place(lat2, lon2));
        assert!((distance - 5_570.0).abs() < 15.0, "{distance}");
        // Antipodes: half the circumference, with no NaN from rounding.
        let distance = distance_km(&place(10.0, 20.0), &place(-10.0, -160.0));
        assert!((distance - HALF_CIRCUMFERENCE_KM).abs() < 1.0, "{distance}");
    }

    #[test]
    fn a_late_event_is_compared_both_ways() {
        // The Moscow login arrives before the Chicago one it is 40 minutes older than.
        let mut detector = ImpossibleTravel::new(ImpossibleTravelConfig::default());
        assert!(
            detector
                .observe(&login("bob", "203.0.113.66", city("Moscow")), 1, at(2_400))
                .is_empty()
        );
        let alerts = detector.observe(&login("bob", "192.0.2.50", city("Chicago")), 2, at(0));
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].evidence, [2, 1]);
        assert_eq!(alerts[0].first_seen, at(0));
    }

    #[test]
    fn exempt_asns_and_bad_coordinates_are_skipped() {
        let config = ImpossibleTravelConfig {
            exempt_asns: vec![64_500],
            ..ImpossibleTravelConfig::default()
        };
        let mut detector = ImpossibleTravel::new(config);
        let mut relayed = login("carl", "203.0.113.1", city("Tokyo"));
        relayed.insert("source.as.number", Value::Int(64_500));
        let mut broken = login("carl", "203.0.113.2", city("Sydney"));
        broken.insert("source.geo.location.lat", Value::Float(f64::NAN));
        let mut null_island = login("carl", "203.0.113.3", city("Sydney"));
        null_island.insert("source.geo.location.lat", Value::Float(0.0));
        null_island.insert("source.geo.location.lon", Value::Float(0.0));
        let mut out_of_range = login("carl", "203.0.113.4", city("Sydney"));
        out_of_range.insert("source.geo.location.lon", Value::from("540"));
        assert!(detector.observe(&login("carl", "192.0.2.1", city("Paris")), 0, at(0)).is_empty());
        for (id, event) in [relayed, broken, null_island, out_of_range].iter().enumerate() {
            assert!(detector.observe(event, id as u64 + 1, at(60)).is_empty());
        }
        assert!(
            !detector.observe(&login("carl", "203.0.113.5", city("Sydney")), 9, at(120)).is_empty()
        );
    }

    #[test]
    fn failures_and_other_events_are_not_logins() {
        let detector = ImpossibleTravel::new(ImpossibleTravelConfig::default());
        let mut failed = login("dan", "192.0.2.1", city("Paris"));
        failed.insert("event.outcome", Value::from("failure"));
        assert!(!detector.wants(&failed));
        let windows = Event::from_fields(vec![
            ("EventID".into(), Value::Int(4624)),
            ("TargetUserName".into(), Value::from("dan")),
            ("source.geo.location.lat".into(), Value::Float(1.0)),
        ]);
        assert!(detector.wants(&windows));
        assert!(!detector.wants(&Event::new()));
    }

    #[test]
    fn state_bounded_and_survives_a_restart() {
        let config = ImpossibleTravelConfig {
            max_tracked: 100,
            history: 3,
            ..ImpossibleTravelConfig::default()
        };
        let mut before = ImpossibleTravel::new(config.clone());
        for idx in 0..1_000_i64 {
            before.observe(&login(&format!("u{idx}"), "192.0.2.1", city("Paris")), 0, at(idx));
        }
        for step in 0..10 {
            before.observe(&login("eve", "192.0.2.2", city("Madrid")), 0, at(2_000 + step));
        }
        assert!(before.state.users.len() <= 100);
        assert_eq!(before.state.users["eve"].logins.len(), 3);

        let text = serde_json::to_string(&before.save()).unwrap();
        let mut after = ImpossibleTravel::new(config.clone());
        after.restore(serde_json::from_str(&text).unwrap()).unwrap();
        let alerts = after.observe(&login("eve", "203.0.113.9", city("Sydney")), 1, at(3_000));
        assert_eq!(alerts.len(), 1, "the Madrid logins were remembered");

        let mut fresh = ImpossibleTravel::new(config);
        assert!(
            fresh.observe(&login("eve", "203.0.113.9", city("Sydney")), 1, at(3_000)).is_empty()
        );
        assert!(matches!(
            fresh.restore(serde_json::json!({"version": 1, "users": {"x": {"logins": "no"}}})),
            Err(crate::Error::State { .. })
        ));
    }
}
