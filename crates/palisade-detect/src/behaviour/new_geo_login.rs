//! The `palisade.new_geo_login` detector: a user's first successful login from a country or
//! an autonomous system (network operator) never seen for them before.
//!
//! Most people log in from a handful of places: home, office, a phone network. Stolen
//! credentials are used from elsewhere, often from hosting providers or from countries the
//! user has never been to ([T1078], valid accounts). The detector learns, per user, the
//! countries (`source.geo.country_iso_code`) and autonomous systems (`source.as.number`) of
//! their successful logins, and raises an alert when a login brings one that is not in the
//! baseline.
//!
//! A new user has no baseline: everything they do is new. Alerts therefore wait until the
//! baseline has matured, both in time (the user was first seen long enough ago) and in
//! volume (enough geolocated logins). Logins without geo data (private addresses) neither
//! alert nor count. Documentation: `docs/detectors/new_geo_login.md`.
//!
//! [T1078]: https://attack.mitre.org/techniques/T1078/

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use palisade_event::Event;
use serde::{Deserialize, Serialize};

use super::login::is_success;
use super::util::{self, Map, drop_least_recent, non_negative, number, text, within};
use super::{Behaviour, BehaviourMeta, Seen};
use crate::{Alert, EventId, Result, Severity};

static META: BehaviourMeta = BehaviourMeta {
    id: "palisade.new_geo_login",
    title: "Login from a new country or network",
    severity: Severity::Medium,
    attack: &["T1078"],
};

/// The version of the saved state; a state of another version does not decode.
const STATE_VERSION: u32 = 1;

/// Settings of `[detect.behaviour.new_geo_login]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewGeoLoginConfig {
    /// How long after a user's first geolocated login their baseline is trusted: until then
    /// new places are learnt without an alert. Days are accepted (`"7d"`, `"2 weeks"`), as
    /// 24 hours each.
    #[serde(deserialize_with = "util::duration::deserialize")]
    pub learning_period: SignedDuration,
    /// How many geolocated logins a user needs before their baseline is trusted (counted
    /// with `learning_period`: both must be reached).
    pub min_logins: u64,
    /// Alert on a country not seen for the user.
    pub new_country: bool,
    /// Alert on an autonomous system not seen for the user, even in a known country. Noisier
    /// than countries (a hotel, a new phone contract), and a strong signal for accounts
    /// that only ever log in from the office.
    pub new_asn: bool,
    /// After an alert for a user, no new alert for them until this much event time has
    /// passed. What is new is learnt all the same, so that each place alerts at most once.
    #[serde(deserialize_with = "util::duration::deserialize")]
    pub cooldown: SignedDuration,
    /// At most this many countries and this many autonomous systems are kept per user; past
    /// it the least recently used are forgotten (and would be new again).
    pub max_places_per_user: usize,
    /// At most this many users are followed; past it the least recently seen are forgotten,
    /// and start learning again when they come back.
    pub max_tracked: usize,
}

impl Default for NewGeoLoginConfig {
    fn default() -> Self {
        Self {
            learning_period: SignedDuration::from_hours(7 * 24),
            min_logins: 10,
            new_country: true,
            new_asn: true,
            cooldown: SignedDuration::from_hours(1),
            max_places_per_user: 20,
            max_tracked: 100_000,
        }
    }
}

/// Raises an alert when a user with an established baseline logs in from a country or
/// network that is not in it.
#[derive(Debug)]
pub struct NewGeoLogin {
    config: NewGeoLoginConfig,
    state: State,
}

/// Everything learnt, as saved.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    version: u32,
    /// Keyed by lower-cased user name.
    users: Map<Baseline>,
}

/// Where one user logs in from.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Baseline {
    /// Event time of their first geolocated login.
    first_seen: Timestamp,
    /// Event time of their latest one.
    last_seen: Timestamp,
    /// How many geolocated logins were seen.
    logins: u64,
    /// Country code → last login from it.
    #[serde(default)]
    countries: BTreeMap<String, Timestamp>,
    /// Autonomous system number → last login from it.
    #[serde(default)]
    asns: BTreeMap<u32, Timestamp>,
    /// Event time of the last alert about this user, for the cool-down.
    #[serde(default)]
    last_alert: Option<Timestamp>,
}

impl Baseline {
    fn new(time: Timestamp) -> Self {
        Self {
            first_seen: time,
            last_seen: time,
            logins: 0,
            countries: BTreeMap::new(),
            asns: BTreeMap::new(),
            last_alert: None,
        }
    }
}

/// What the detector needs from one successful login.
#[derive(Debug)]
struct Login {
    user: String,
    country: Option<String>,
    asn: Option<u32>,
    organization: Option<String>,
    ip: Option<String>,
    host: Option<String>,
}

impl NewGeoLogin {
    /// A detector with these settings.
    #[must_use]
    pub fn new(config: NewGeoLoginConfig) -> Self {
        Self { config, state: State { version: STATE_VERSION, ..State::default() } }
    }

    fn record(&mut self, login: Login, id: EventId, time: Timestamp) -> Vec<Alert> {
        let learning_period = non_negative(self.config.learning_period);
        let cooldown = non_negative(self.config.cooldown);
        let cap = self.config.max_places_per_user.max(1);

        let baseline =
            self.state.users.entry(login.user.clone()).or_insert_with(|| Baseline::new(time));
        let mature = baseline.logins >= self.config.min_logins
            && time.duration_since(baseline.first_seen) >= learning_period;
        let new_country = login.country.as_ref().filter(|country| {
            self.config.new_country && !baseline.countries.contains_key(*country)
        });
        let new_asn =
            login.asn.filter(|asn| self.config.new_asn && !baseline.asns.contains_key(asn));
        let cooling =
            baseline.last_alert.is_some_and(|at| at <= time && within(time, at, cooldown));

        let mut alerts = Vec::new();
        if mature && !cooling && (new_country.is_some() || new_asn.is_some()) {
            alerts.push(new_place_alert(
                &login,
                baseline,
                new_country.is_some(),
                new_asn.is_some(),
                id,
                time,
            ));
            baseline.last_alert = Some(time);
        }

        // Learn: the login is part of the baseline from now on.
        baseline.logins = baseline.logins.saturating_add(1);
        baseline.first_seen = baseline.first_seen.min(time);
        baseline.last_seen = baseline.last_seen.max(time);
        if let Some(country) = login.country {
            learn(&mut baseline.countries, country, time, cap);
        }
        if let Some(asn) = login.asn {
            learn(&mut baseline.asns, asn, time, cap);
        }
        self.forget();
        alerts
    }

    /// Keeps the map within `max_tracked`, forgetting the least recently seen users.
    fn forget(&mut self) {
        let max = self.config.max_tracked.max(1);
        let map = &mut self.state.users;
        if map.len() <= max {
            return;
        }
        // Down to 90% at once, so that eviction is paid for once per many events.
        drop_least_recent(map, max - max / 10, |baseline| baseline.last_seen);
    }
}

/// Records a place with the time it was used, forgetting the least recently used past `cap`.
fn learn<K: Ord + Clone>(
    places: &mut BTreeMap<K, Timestamp>,
    place: K,
    time: Timestamp,
    cap: usize,
) {
    let last = places.entry(place).or_insert(time);
    *last = (*last).max(time);
    trim(places, cap);
}

/// Forgets the least recently used places past `cap`.
fn trim<K: Ord + Clone>(places: &mut BTreeMap<K, Timestamp>, cap: usize) {
    while places.len() > cap {
        let oldest = places.iter().min_by_key(|(_, at)| **at).map(|(key, _)| key.clone());
        match oldest {
            Some(key) => places.remove(&key),
            None => break,
        };
    }
}

fn new_place_alert(
    login: &Login,
    baseline: &Baseline,
    new_country: bool,
    new_asn: bool,
    id: EventId,
    time: Timestamp,
) -> Alert {
    let mut what = Vec::new();
    if new_country && let Some(country) = &login.country {
        what.push(format!("country {country}"));
    }
    if new_asn && let Some(asn) = login.asn {
        match &login.organization {
            Some(name) => what.push(format!("network AS{asn} ({name})")),
            None => what.push(format!("network AS{asn}")),
        }
    }
    let known =
        |list: Vec<String>| if list.is_empty() { "none".to_owned() } else { list.join(", ") };
    let from = login.ip.as_deref().map(|ip| format!(" from {ip}")).unwrap_or_default();
    let summary = format!(
        "{} logged in{from}: first time from {}; known countries: {}; known networks: {} ({} \
         logins since {})",
        login.user,
        what.join(" and "),
        known(baseline.countries.keys().cloned().collect()),
        known(baseline.asns.keys().map(|asn| format!("AS{asn}")).collect()),
        baseline.logins,
        baseline.first_seen.strftime("%Y-%m-%d"),
    );
    let mut alert = META.alert(login.user.clone(), summary, time, time);
    alert.entities.users.insert(login.user.clone());
    if let Some(ip) = &login.ip {
        alert.entities.ips.insert(ip.clone());
    }
    if let Some(host) = &login.host {
        alert.entities.hosts.insert(host.clone());
    }
    alert.add_evidence([id]);
    alert
}

impl Behaviour for NewGeoLogin {
    fn meta(&self) -> &BehaviourMeta {
        &META
    }

    fn wants(&self, event: &Event) -> bool {
        (event.get("source.geo.country_iso_code").is_some()
            || event.get("source.as.number").is_some())
            && is_success(event)
    }

    fn wants_seen(&self, seen: &Seen<'_>) -> bool {
        (seen.event().get("source.geo.country_iso_code").is_some()
            || seen.event().get("source.as.number").is_some())
            && seen.login().success
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
        let country = text(event, "source.geo.country_iso_code")
            .map(|code| code.trim().to_ascii_uppercase())
            .filter(|code| code.len() == 2 && code.bytes().all(|byte| byte.is_ascii_alphabetic()));
        let asn = as_number(event);
        if country.is_none() && asn.is_none() {
            return Vec::new();
        }
        let login = Login {
            user,
            country,
            asn,
            organization: text(event, "source.as.organization.name")
                .map(|name| name.trim().to_owned()),
            ip: facts.source.as_deref().map(str::to_owned),
            host: facts.host.as_deref().map(str::to_owned),
        };
        self.record(login, id, time)
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
        let cap = self.config.max_places_per_user.max(1);
        for baseline in self.state.users.values_mut() {
            trim(&mut baseline.countries, cap);
            trim(&mut baseline.asns, cap);
        }
        self.forget();
        Ok(())
    }
}

/// The source's autonomous system number: an integer, or text such as `AS15169`.
fn as_number(event: &Event) -> Option<u32> {
    let number = number(event, "source.as.number").or_else(|| {
        let text = text(event, "source.as.number")?;
        let digits = text.trim().trim_start_matches("AS").trim_start_matches("as");
        digits.parse().ok()
    })?;
    // 0 and the top value are reserved; what is not a whole number in range is garbage.
    let whole =
        number.is_finite() && number.fract() == 0.0 && number > 0.0 && number < f64::from(u32::MAX);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // range checked above
    whole.then_some(number as u32)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use palisade_event::Value;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    const START: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z
    const DAY: i64 = 86_400;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(START + seconds).unwrap()
    }

    /// A successful login from an enriched address; `country` or `asn` may be absent.
    fn login(user: &str, ip: &str, country: Option<&str>, asn: Option<i64>) -> Event {
        let mut fields = vec![
            ("event.category".into(), Value::List(vec![Value::from("authentication")])),
            ("event.outcome".into(), Value::from("success")),
            ("user.name".into(), Value::from(user)),
            ("source.ip".into(), Value::from(ip)),
            ("host.name".into(), Value::from("vpn01")),
        ];
        if let Some(country) = country {
            fields.push(("source.geo.country_iso_code".into(), Value::from(country)));
        }
        if let Some(asn) = asn {
            fields.push(("source.as.number".into(), Value::Int(asn)));
        }
        Event::from_fields(fields)
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    enum Label {
        Background,
        Attack,
        NewNetwork,
        Newcomer,
        Sparse,
        KnownAgain,
        NoGeo,
    }

    fn run(
        mut events: Vec<(i64, Event, Label)>,
        detector: &mut NewGeoLogin,
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

    /// (country, home network, mobile network)
    const HOMES: &[(&str, i64, i64)] = &[
        ("US", 7_922, 21_928),
        ("DE", 3_320, 3_209),
        ("FR", 3_215, 15_557),
        ("GB", 2_856, 5_378),
        ("CA", 577, 812),
    ];

    fn month(seed: u64) -> Vec<(i64, Event, Label)> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut events = Vec::new();
        // Everyday logins for a month: home network most days, the phone now and then; a
        // few users also cross a border to a second country they visit regularly.
        for user_idx in 0..50 {
            let user = format!("user{user_idx}");
            let (country, home, mobile) = HOMES[user_idx % HOMES.len()];
            let commuter = user_idx % 7 == 3;
            for day in 0..30 {
                for _ in 0..rng.random_range(1..4) {
                    let when = day * DAY + rng.random_range(25_000..70_000);
                    // The phone is used on day one, so it is known by the time the
                    // baseline matures.
                    let asn = if day == 1 || rng.random_bool(0.2) { mobile } else { home };
                    let ip = format!("198.51.{}.{}", user_idx, rng.random_range(1..200));
                    // The second country is visited in the first week, so it is known by
                    // the time the baseline matures.
                    let place = if commuter && day % 3 == 0 && day < 20 { "CH" } else { country };
                    let asn = if place == "CH" { 6_730 } else { asn };
                    events.push((
                        when,
                        login(&user, &ip, Some(place), Some(asn)),
                        Label::Background,
                    ));
                }
                if rng.random_bool(0.3) {
                    // Office logins from private addresses: no geo at all.
                    events.push((
                        day * DAY + 30_000,
                        login(&user, &format!("10.1.0.{user_idx}"), None, None),
                        Label::NoGeo,
                    ));
                }
            }
        }
        // Look-alike: a new hire on day 22 who logs in often (three times a day, from the
        // Netherlands) and from two more countries in their first days (a trip): enough
        // logins, but not yet a week of them.
        for day in 22..28 {
            for hour in [9, 13, 17] {
                events.push((
                    day * DAY + hour * 3_600,
                    login("newbie", "192.0.2.77", Some("NL"), Some(1_136)),
                    Label::Newcomer,
                ));
            }
        }
        events.push((
            25 * DAY + 40_000,
            login("newbie", "192.0.2.78", Some("BE"), Some(5_432)),
            Label::Newcomer,
        ));
        events.push((
            27 * DAY + 40_000,
            login("newbie", "192.0.2.79", Some("LU"), Some(6_661)),
            Label::Newcomer,
        ));
        // Look-alike: a user seen once every week or so, from a different country each time:
        // known for weeks, but from too few logins to say what is usual.
        for (day, country, asn) in
            [(2, "GB", 2_856), (10, "IE", 5_466), (18, "PT", 3_243), (27, "FR", 3_215)]
        {
            events.push((
                day * DAY + 40_000,
                login("rare", "192.0.2.80", Some(country), Some(asn)),
                Label::Sparse,
            ));
        }
        // Look-alike: user1 (DE) spends the first day in Spain, then not again until day 27.
        events.push((
            3_000,
            login("user1", "192.0.2.88", Some("ES"), Some(3_352)),
            Label::KnownAgain,
        ));
        events.push((
            27 * DAY + 50_000,
            login("user1", "192.0.2.88", Some("ES"), Some(3_352)),
            Label::KnownAgain,
        ));
        // A new network in the user's own country: user2 (FR) on a new provider.
        events.push((
            26 * DAY + 45_000,
            login("user2", "192.0.2.99", Some("FR"), Some(12_322)),
            Label::NewNetwork,
        ));
        // Attack: user0 (US) logs in from a Russian hosting provider, twice.
        events.push((
            28 * DAY + 10_000,
            login("user0", "203.0.113.66", Some("RU"), Some(12_389)),
            Label::Attack,
        ));
        events.push((
            28 * DAY + 10_600,
            login("user0", "203.0.113.66", Some("RU"), Some(12_389)),
            Label::Attack,
        ));
        events
    }

    #[test]
    fn fires_on_new_places_of_mature_users_only() {
        for seed in [21, 22, 23] {
            let mut detector = NewGeoLogin::new(NewGeoLoginConfig::default());
            let (alerts, labels) = run(month(seed), &mut detector);
            assert_eq!(alerts.len(), 2, "seed {seed}: {alerts:#?}");

            let network = &alerts[0];
            assert_eq!(network.group, "user2");
            assert_eq!(labels[network.evidence[0] as usize], Label::NewNetwork);
            assert!(network.summary.contains("network AS12322"), "{}", network.summary);
            assert!(!network.summary.contains("country FR"), "{}", network.summary);

            let attack = &alerts[1];
            assert_eq!(attack.rule_id, "palisade.new_geo_login");
            assert_eq!(attack.group, "user0");
            assert_eq!(attack.evidence.len(), 1);
            assert_eq!(labels[attack.evidence[0] as usize], Label::Attack);
            assert_eq!(attack.first_seen, at(28 * DAY + 10_000));
            assert_eq!(attack.entities.users, BTreeSet::from(["user0".to_owned()]));
            assert_eq!(attack.entities.ips, BTreeSet::from(["203.0.113.66".to_owned()]));
            assert!(
                attack.summary.contains("country RU and network AS12389"),
                "{}",
                attack.summary
            );
            assert!(attack.summary.contains("known countries: US;"), "{}", attack.summary);
        }
    }

    #[test]
    fn countries_only_when_asns_are_off() {
        let config = NewGeoLoginConfig { new_asn: false, ..NewGeoLoginConfig::default() };
        let mut detector = NewGeoLogin::new(config);
        let (alerts, _) = run(month(21), &mut detector);
        assert_eq!(alerts.iter().map(|alert| alert.group.as_str()).collect::<Vec<_>>(), ["user0"]);
    }

    #[test]
    fn baseline_survives_a_restart() {
        let mut before = NewGeoLogin::new(NewGeoLoginConfig::default());
        for day in 0..10 {
            before.observe(
                &login("kim", "192.0.2.1", Some("JP"), Some(2_516)),
                day as u64,
                at(day * DAY),
            );
        }
        let text = serde_json::to_string(&before.save()).unwrap();
        let mut after = NewGeoLogin::new(NewGeoLoginConfig::default());
        after.restore(serde_json::from_str(&text).unwrap()).unwrap();
        // Known after the restart: quiet. Mature after the restart: a new place alerts.
        assert!(
            after
                .observe(&login("kim", "192.0.2.1", Some("JP"), Some(2_516)), 20, at(10 * DAY))
                .is_empty()
        );
        assert_eq!(
            after
                .observe(&login("kim", "203.0.113.1", Some("KR"), Some(4_766)), 21, at(11 * DAY))
                .len(),
            1
        );

        // A detector that forgot the baseline would be learning still.
        let mut fresh = NewGeoLogin::new(NewGeoLoginConfig::default());
        assert!(
            fresh
                .observe(&login("kim", "203.0.113.1", Some("KR"), Some(4_766)), 21, at(11 * DAY))
                .is_empty()
        );
        assert!(matches!(
            fresh.restore(serde_json::json!({"version": 1, "users": {"kim": {}}})),
            Err(crate::Error::State { .. })
        ));
    }

    #[test]
    fn cooldown_and_bounds() {
        let config = NewGeoLoginConfig {
            min_logins: 1,
            learning_period: SignedDuration::ZERO,
            max_places_per_user: 3,
            max_tracked: 10,
            ..NewGeoLoginConfig::default()
        };
        let mut detector = NewGeoLogin::new(config);
        detector.observe(&login("lea", "192.0.2.1", Some("IT"), None), 0, at(0));
        let mut fired = Vec::new();
        for (seconds, country) in [(100, "AT"), (1_000, "SI"), (5_000, "HR"), (9_000, "IT")] {
            let event = login("lea", "192.0.2.1", Some(country), None);
            fired.push(detector.observe(&event, 1, at(seconds)).len());
        }
        // AT alerts; SI is within the hour of it; HR alerts; IT was forgotten (three places
        // at most, IT the least recent) and is new again.
        assert_eq!(fired, [1, 0, 1, 1]);
        assert_eq!(detector.state.users["lea"].countries.len(), 3);
        for idx in 0..100 {
            detector.observe(
                &login(&format!("u{idx}"), "192.0.2.1", Some("IT"), None),
                0,
                at(20_000 + idx),
            );
        }
        assert!(detector.state.users.len() <= 10);
    }

    #[test]
    fn odd_geo_values_are_ignored() {
        let mut detector = NewGeoLogin::new(NewGeoLoginConfig::default());
        let mut event = login("zed", "192.0.2.1", Some("not a code"), None);
        event.insert("source.as.number", Value::Float(f64::NAN));
        assert!(detector.observe(&event, 0, at(0)).is_empty());
        assert!(detector.state.users.is_empty());
        let mut text_asn = login("zed", "192.0.2.1", None, None);
        text_asn.insert("source.as.number", Value::from("AS15169"));
        assert_eq!(as_number(&text_asn), Some(15_169));
        text_asn.insert("source.as.number", Value::Int(-4));
        assert_eq!(as_number(&text_asn), None);
        let mut failed = login("zed", "192.0.2.1", Some("US"), None);
        failed.insert("event.outcome", Value::from("failure"));
        assert!(!detector.wants(&failed));
    }

    #[test]
    fn config_reads_days() {
        let read = |value| serde_json::from_value::<NewGeoLoginConfig>(value);
        let config =
            read(serde_json::json!({"learning_period": "14 days", "new_asn": false})).unwrap();
        assert_eq!(config.learning_period, SignedDuration::from_hours(14 * 24));
        assert!(!config.new_asn);
        assert_eq!(
            read(serde_json::json!({"learning_period": "2w"})).unwrap().learning_period,
            SignedDuration::from_hours(14 * 24)
        );
        assert_eq!(
            read(serde_json::json!({"learning_period": "36h"})).unwrap().learning_period,
            SignedDuration::from_hours(36)
        );
        assert!(read(serde_json::json!({"learning_period": "1 month"})).is_err());
        assert!(read(serde_json::json!({"learning_period": "soon"})).is_err());
        assert!(read(serde_json::json!({"min_login": 3})).is_err());
    }
}
